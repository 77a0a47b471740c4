//! `ark restore ...`: restore from a backup, and list, describe, fetch the logs of and delete
//! restores.

use clap::{Args, Subcommand};

use crate::model::ResourceName;

use super::Ctx;
use super::exit::{Outcome, not_implemented};
use super::filters::FilterArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Restore objects (and volumes) from a backup into the cluster.
    #[command(after_help = "Examples:\n  ark restore create --from-backup pre-upgrade-1-31\n  \
ark restore create shop-copy --from-backup shop --namespace-mappings shop:shop-copy\n  \
ark restore create --from-backup shop --dry-run -o yaml")]
    Create(CreateArgs),
    /// List restores.
    Get(GetArgs),
    /// Show one restore: phase, counts, warnings and errors per namespace.
    Describe(NameArgs),
    /// Print a restore's log.
    Logs(NameArgs),
    /// Delete restore records (the restored objects stay in the cluster).
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the restore issue")]
pub(crate) struct CreateArgs {
    /// Name of the restore (default: BACKUP-YYYYMMDDhhmmss).
    pub(crate) name: Option<ResourceName>,
    /// The backup to restore from.
    #[arg(long, value_name = "BACKUP")]
    pub(crate) from_backup: Option<ResourceName>,
    #[command(flatten)]
    pub(crate) filters: FilterArgs,
    /// Move namespaces: OLD:NEW pairs, comma-separated (`shop:shop-copy,db:db-copy`).
    #[arg(long, value_delimiter = ',', value_name = "OLD:NEW")]
    pub(crate) namespace_mappings: Vec<String>,
    /// What to do with objects that already exist: `none` skips them (and reports whether they
    /// differ), `update` patches them to the backed-up state.
    #[arg(long, value_name = "POLICY", default_value = "none")]
    pub(crate) existing_resource_policy: String,
    /// Keep the status of these resources (comma-separated) instead of dropping it.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE")]
    pub(crate) restore_status: Vec<String>,
    /// Keep Service node ports as they were in the backup.
    #[arg(long)]
    pub(crate) preserve_nodeports: bool,
    /// Restore persistent volumes from their snapshots.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) restore_volumes: bool,
    /// Restore order, comma-separated resources, overriding the documented default.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE")]
    pub(crate) resource_priorities: Vec<String>,
    /// Do everything but create: show what would be created, skipped or updated, checked by the
    /// server (server-side dry run).
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Storage location to read the backup from (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the restore issue")]
pub(crate) struct GetArgs {
    /// Restores to show (default: all).
    pub(crate) names: Vec<String>,
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the restore issue")]
pub(crate) struct NameArgs {
    /// The restore.
    pub(crate) name: ResourceName,
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
#[expect(dead_code, reason = "filled in by the restore issue")]
pub(crate) struct DeleteArgs {
    /// Restores to delete.
    #[arg(required = true)]
    pub(crate) names: Vec<ResourceName>,
    /// Storage location to delete from (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

pub(crate) async fn run(cmd: Command, _ctx: &Ctx) -> anyhow::Result<Outcome> {
    let verb = match cmd {
        Command::Create(_) => "restore create",
        Command::Get(_) => "restore get",
        Command::Describe(_) => "restore describe",
        Command::Logs(_) => "restore logs",
        Command::Delete(_) => "restore delete",
    };
    Err(not_implemented(verb))
}
