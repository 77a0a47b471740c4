//! `ark daemon`, `ark sync` and `ark gc`: the background work Ark's server did, run from a
//! bastion host or a timer.

use clap::Args;

use crate::model::HumanDuration;

use super::Ctx;
use super::exit::{Outcome, not_implemented};

#[derive(Debug, Args)]
pub(crate) struct DaemonArgs {
    /// Only sync: run no schedules and expire no backups (for disaster recovery into a new
    /// cluster, as Ark's server's restore-only mode).
    #[arg(long)]
    pub(crate) restore_only: bool,
    /// How often to sync the local cache from the storage locations.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub(crate) sync_interval: HumanDuration,
    /// How often to delete expired backups.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub(crate) gc_interval: HumanDuration,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Only this storage location (default: all of them).
    #[arg(long, value_name = "NAME")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    /// Only this storage location (default: all writable ones).
    #[arg(long, value_name = "NAME")]
    pub(crate) storage_location: Option<String>,
    /// List what would be deleted, delete nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

pub(crate) async fn run_daemon(_args: DaemonArgs, _ctx: &Ctx) -> anyhow::Result<Outcome> {
    Err(not_implemented("daemon"))
}

pub(crate) async fn run_sync(_args: SyncArgs, _ctx: &Ctx) -> anyhow::Result<Outcome> {
    Err(not_implemented("sync"))
}

pub(crate) async fn run_gc(_args: GcArgs, _ctx: &Ctx) -> anyhow::Result<Outcome> {
    Err(not_implemented("gc"))
}
