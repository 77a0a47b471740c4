//! `ark schedule ...`: schedules live in the local state file; `ark daemon` runs them.

use clap::{Args, Subcommand};

use crate::model::ResourceName;

use super::Ctx;
use super::backup::BackupOptions;
use super::exit::{Outcome, not_implemented};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a schedule: backups named SCHEDULE-YYYYMMDDhhmmss at each cron time.
    #[command(after_help = "Examples:\n  ark schedule create nightly --schedule \"0 2 * * *\" --ttl 720h\n  \
ark schedule create shop --schedule \"@every 6h\" --include-namespaces shop")]
    Create(Box<CreateArgs>),
    /// List schedules with their last and next runs.
    Get(GetArgs),
    /// Show one schedule.
    Describe(NameArgs),
    /// Delete schedules (their backups stay until they expire).
    Delete(NameArgs),
    /// Stop a schedule from running until it is unpaused.
    Pause(NameArgs),
    /// Let a paused schedule run again.
    Unpause(NameArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Name of the schedule (a DNS-1123 label).
    pub(crate) name: ResourceName,
    /// When to back up: a 5-field cron expression (`0 2 * * *`), `@every 6h`, `@daily`, `@hourly`...
    #[arg(long, value_name = "CRON")]
    pub(crate) schedule: String,
    /// Time zone the cron expression is read in (default: UTC).
    #[arg(long, value_name = "TZ")]
    pub(crate) timezone: Option<String>,
    /// Do not take the first backup right away; wait for the first cron time.
    #[arg(long)]
    pub(crate) skip_first: bool,
    #[command(flatten)]
    pub(crate) options: BackupOptions,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Schedules to show (default: all).
    pub(crate) names: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct NameArgs {
    /// The schedule.
    pub(crate) name: ResourceName,
}

pub(crate) async fn run(cmd: Command, _ctx: &Ctx) -> anyhow::Result<Outcome> {
    let verb = match cmd {
        Command::Create(_) => "schedule create",
        Command::Get(_) => "schedule get",
        Command::Describe(_) => "schedule describe",
        Command::Delete(_) => "schedule delete",
        Command::Pause(_) => "schedule pause",
        Command::Unpause(_) => "schedule unpause",
    };
    Err(not_implemented(verb))
}
