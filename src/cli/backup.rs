//! `ark backup ...`: create, list, describe, fetch the logs of, download and delete backups.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::model::{HumanDuration, ResourceName};

use super::Ctx;
use super::exit::{Outcome, not_implemented};
use super::filters::FilterArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Back up the cluster (or part of it) into a storage location.
    #[command(after_help = "Examples:\n  ark backup create pre-upgrade-1-31\n  \
ark backup create shop --include-namespaces shop,shop-db --ttl 72h\n  \
ark backup create web-only -n shop -l app=web --snapshot-volumes=false")]
    Create(CreateArgs),
    /// List backups (from the storage location, the source of truth).
    Get(GetArgs),
    /// Show one backup: phase, filters, counts, warnings, the revision it was taken at.
    Describe(DescribeArgs),
    /// Print a backup's log.
    Logs(NameArgs),
    /// Download a backup's archive to a local file.
    Download(DownloadArgs),
    /// Delete backups: their objects in the bucket and their volume snapshots.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the backup issue")]
pub(crate) struct CreateArgs {
    /// Name of the backup (a DNS-1123 label).
    pub(crate) name: ResourceName,
    #[command(flatten)]
    pub(crate) filters: FilterArgs,
    /// How long to keep the backup before `ark gc` deletes it (default: the config's defaultTtl,
    /// else 720h).
    #[arg(long, value_name = "DURATION")]
    pub(crate) ttl: Option<HumanDuration>,
    /// Storage location to write to (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
    /// Volume snapshot location for PV snapshots (default: the configured default).
    #[arg(long, value_name = "NAME")]
    pub(crate) volume_snapshot_location: Option<String>,
    /// Snapshot the persistent volumes in scope.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) snapshot_volumes: bool,
    /// YAML file of exec hooks to run in pods before and after the backup.
    #[arg(long, value_name = "FILE")]
    pub(crate) hooks: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the backup issue")]
pub(crate) struct GetArgs {
    /// Backups to show (default: all).
    pub(crate) names: Vec<String>,
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the backup issue")]
pub(crate) struct DescribeArgs {
    /// The backup to describe.
    pub(crate) name: ResourceName,
    /// Also list every resource type with its object count, each volume snapshot and each hook.
    #[arg(long)]
    pub(crate) details: bool,
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the backup issue")]
pub(crate) struct NameArgs {
    /// The backup.
    pub(crate) name: ResourceName,
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the backup issue")]
pub(crate) struct DownloadArgs {
    /// The backup to download.
    pub(crate) name: ResourceName,
    /// Where to write the archive (default: ./NAME.tar.gz).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the backup issue")]
pub(crate) struct DeleteArgs {
    /// Backups to delete.
    #[arg(required_unless_present = "all")]
    pub(crate) names: Vec<ResourceName>,
    /// Delete every backup in the storage location.
    #[arg(long, conflicts_with = "names")]
    pub(crate) all: bool,
    /// Storage location to delete from (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

pub(crate) async fn run(cmd: Command, _ctx: &Ctx) -> anyhow::Result<Outcome> {
    let verb = match cmd {
        Command::Create(_) => "backup create",
        Command::Get(_) => "backup get",
        Command::Describe(_) => "backup describe",
        Command::Logs(_) => "backup logs",
        Command::Download(_) => "backup download",
        Command::Delete(_) => "backup delete",
    };
    Err(not_implemented(verb))
}
