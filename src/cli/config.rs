//! `ark config`: view the effective configuration and change it with forms scripts can rely on.

use clap::{Args, Subcommand};

use crate::config::{Config, SnapshotLocation, SnapshotProvider, StorageLocation, parse_location_url};
use crate::model::ResourceName;

use super::Ctx;
use super::exit::{Outcome, usage};
use super::output::{self, OutputFormat, Table};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the effective configuration: the file's content plus the defaults that apply.
    View,
    /// Add or replace a storage location (where backups are kept).
    #[command(
        after_help = "Examples:\n  ark config set-location prod s3://my-bucket/ark --region eu-west-1 --default\n  \
ark config set-location minio s3://backups --endpoint http://127.0.0.1:9000 --path-style\n  \
ark config set-location local file:///var/backups/ark\n  \
ark config set-location old-cluster s3://old-bucket --read-only"
    )]
    SetLocation(SetLocationArgs),
    /// Add or replace a volume snapshot location (where PV snapshots are taken).
    #[command(
        after_help = "Example:\n  ark config set-snapshot-location aws-east --provider aws --region us-east-1 --default"
    )]
    SetSnapshotLocation(SetSnapshotLocationArgs),
    /// Remove a storage location from the configuration (its bucket is not touched).
    DeleteLocation(DeleteArgs),
    /// Remove a volume snapshot location from the configuration (no snapshot is touched).
    DeleteSnapshotLocation(DeleteArgs),
    /// Check that storage locations are reachable: write, read back and delete a probe object
    /// (read-only locations are only listed).
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SetLocationArgs {
    /// Name of the location (a DNS-1123 label, e.g. `prod`).
    name: ResourceName,
    /// Where backups go: file:///PATH, s3://BUCKET[/PREFIX], gs://BUCKET[/PREFIX] or
    /// az://CONTAINER[/PREFIX].
    url: String,
    /// Region of the bucket (S3).
    #[arg(long)]
    region: Option<String>,
    /// S3-compatible endpoint, e.g. http://127.0.0.1:9000 for MinIO.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// AWS credentials profile to use for this location.
    #[arg(long)]
    profile: Option<String>,
    /// Address the bucket as ENDPOINT/BUCKET (MinIO, Ceph and most S3-compatible servers).
    #[arg(long)]
    path_style: bool,
    /// Never write to or garbage-collect this location (e.g. an old cluster's backups).
    #[arg(long)]
    read_only: bool,
    /// Make this the default storage location.
    #[arg(long)]
    default: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SetSnapshotLocationArgs {
    /// Name of the location (a DNS-1123 label, e.g. `aws-east`).
    name: ResourceName,
    /// Cloud provider that takes the snapshots.
    #[arg(long, value_enum)]
    provider: ProviderArg,
    /// Region the volumes live in.
    #[arg(long)]
    region: String,
    /// EC2-compatible endpoint, e.g. a test server.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// AWS credentials profile to use for this location.
    #[arg(long)]
    profile: Option<String>,
    /// Make this the default volume snapshot location.
    #[arg(long)]
    default: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ProviderArg {
    Aws,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Name of the location to remove.
    name: String,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Locations to check (default: every configured location).
    names: Vec<String>,
}

pub(crate) async fn run(cmd: Command, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let mut config = ctx.config()?;
    match cmd {
        Command::View => {
            let effective = config.effective(&ctx.dirs);
            let text = match ctx.output {
                OutputFormat::Json => serde_json::to_string_pretty(&effective)? + "\n",
                OutputFormat::Yaml | OutputFormat::Table => {
                    format!("# {}\n{}", ctx.config_path.display(), serde_yaml::to_string(&effective)?)
                }
            };
            output::print(&text)?;
            return Ok(Outcome::Success);
        }
        Command::SetLocation(args) => {
            parse_location_url(&args.url).map_err(|problem| usage(format!("invalid location URL: {problem}")))?;
            let location = StorageLocation {
                url: args.url,
                region: args.region,
                endpoint: args.endpoint,
                profile: args.profile,
                path_style: args.path_style,
                read_only: args.read_only,
            };
            config.storage_locations.insert(args.name.clone(), location);
            if args.default {
                config.default_location = Some(args.name.clone());
            }
            save(ctx, &config, &format!("storage location {} saved", args.name))?;
        }
        Command::SetSnapshotLocation(args) => {
            let ProviderArg::Aws = args.provider;
            let location = SnapshotLocation {
                provider: SnapshotProvider::Aws,
                region: args.region,
                endpoint: args.endpoint,
                profile: args.profile,
            };
            config.snapshot_locations.insert(args.name.clone(), location);
            if args.default {
                config.default_snapshot_location = Some(args.name.clone());
            }
            save(ctx, &config, &format!("volume snapshot location {} saved", args.name))?;
        }
        Command::DeleteLocation(args) => {
            let name = known_name(config.storage_locations.keys(), &args.name, "storage location")?;
            config.storage_locations.remove(&name);
            if config.default_location.as_ref() == Some(&name) {
                config.default_location = None;
            }
            save(ctx, &config, &format!("storage location {name} removed (its bucket was not touched)"))?;
        }
        Command::DeleteSnapshotLocation(args) => {
            let name = known_name(config.snapshot_locations.keys(), &args.name, "volume snapshot location")?;
            config.snapshot_locations.remove(&name);
            if config.default_snapshot_location.as_ref() == Some(&name) {
                config.default_snapshot_location = None;
            }
            save(ctx, &config, &format!("volume snapshot location {name} removed"))?;
        }
        Command::Check(args) => return check(ctx, &config, &args.names).await,
    }
    Ok(Outcome::Success)
}

fn known_name<'a>(
    mut names: impl Iterator<Item = &'a ResourceName>,
    wanted: &str,
    what: &str,
) -> anyhow::Result<ResourceName> {
    names
        .find(|n| n.as_str() == wanted)
        .cloned()
        .ok_or_else(|| usage(format!("no {what} is named {wanted:?}; see `ark config view`")))
}

fn save(ctx: &Ctx, config: &Config, message: &str) -> anyhow::Result<()> {
    // Validate the result as if it were read back, so ark never writes a file it would refuse.
    Config::parse(&ctx.config_path, &serde_yaml::to_string(config)?)?;
    config.save(&ctx.config_path)?;
    eprintln!("{message} in {}", ctx.config_path.display());
    Ok(())
}

#[derive(serde::Serialize)]
struct CheckResult {
    name: String,
    url: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn check(ctx: &Ctx, config: &Config, names: &[String]) -> anyhow::Result<Outcome> {
    let all = config.storage_locations(&ctx.dirs);
    let selected: Vec<String> =
        if names.is_empty() { all.keys().map(|n| n.to_string()).collect() } else { names.to_vec() };
    let mut results = Vec::new();
    for name in selected {
        let outcome = async {
            let bucket = ctx.bucket(config, Some(&name)).await?;
            bucket.check().await?;
            anyhow::Ok(bucket.url)
        }
        .await;
        let url = all.iter().find(|(n, _)| n.as_str() == name).map(|(_, l)| l.url.clone()).unwrap_or_default();
        results.push(match outcome {
            Ok(_) => CheckResult { name, url, ok: true, error: None },
            Err(e) => CheckResult { name, url, ok: false, error: Some(crate::ops::describe(e.as_ref())) },
        });
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    output::render(ctx.output, &results, |results| {
        let mut table = Table::new(&["LOCATION", "URL", "STATUS"]);
        for r in results {
            let status = r.error.as_ref().map_or("ok".to_owned(), |e| format!("error: {e}"));
            table.row(vec![r.name.clone(), r.url.clone(), status]);
        }
        table.render()
    })?;
    if failed > 0 {
        anyhow::bail!("{failed} of {} storage locations failed the check", results.len());
    }
    Ok(Outcome::Success)
}
