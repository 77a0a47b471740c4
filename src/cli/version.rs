//! `ark version`: ark's own version and the connected server's.

use clap::Args;

use super::Ctx;
use super::exit::Outcome;
use super::output::{self};
use crate::cluster::Connection;

#[derive(Debug, Args)]
pub(crate) struct VersionArgs {
    /// Print only ark's version; do not contact the cluster.
    #[arg(long)]
    client: bool,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Versions {
    client_version: ClientVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<k8s_openapi::apimachinery::pkg::version::Info>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientVersion {
    version: &'static str,
    archive_format: &'static str,
}

pub(crate) async fn run(args: VersionArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let client_version =
        ClientVersion { version: env!("CARGO_PKG_VERSION"), archive_format: crate::archive::FORMAT_VERSION };
    let server_version =
        if args.client { None } else { Some(Connection::open(&ctx.kube, false).await?.server_version().await?) };
    let versions = Versions { client_version, server_version };
    output::render(ctx.output, &versions, |v| {
        let mut text = format!("Client Version: v{}\n", v.client_version.version);
        if let Some(server) = &v.server_version {
            text.push_str(&format!("Server Version: {}\n", server.git_version));
        }
        text
    })?;
    Ok(Outcome::Success)
}
