//! `ark daemon`, `ark sync` and `ark gc`: the background work Ark's server did, run from a
//! bastion host or a timer. The daemon logs one line per action on stderr; `sync` and `gc`
//! print the same lines as their result (or JSON/YAML with `-o`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use clap::Args;

use crate::model::HumanDuration;
use crate::ops::daemon::{self, DaemonEnv, DaemonEvent, DaemonObserver, DaemonSettings, SystemClock};
use crate::ops::gc::{self, GcReport};
use crate::ops::sync::{self, LocationChanges};

use super::Ctx;
use super::exit::Outcome;
use super::output::{self, human_time};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ark daemon\n  ark daemon --restore-only          \
# disaster recovery into a new cluster: sync only\n  ark daemon --sync-interval 5m --gc-interval 30m\n\n\
One daemon runs per state file ($XDG_STATE_HOME/ark/state.json); a second one refuses to start. \
SIGTERM or Ctrl-C stops it cleanly: a running backup stops and ends Failed with reason \
\"interrupted\" (in its record, or in the schedule's last run if it had written nothing yet), \
and the daemon exits 0.")]
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
    /// How often to look at the schedules and the state file: a schedule created, paused or due is
    /// acted on within this time.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub(crate) tick: HumanDuration,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Only this storage location (default: all of them).
    #[arg(long, value_name = "NAME")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    /// Only this storage location (default: all of them; read-only ones are never touched).
    #[arg(long, value_name = "NAME")]
    pub(crate) storage_location: Option<String>,
    /// List what would be deleted, delete nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

pub(crate) async fn run_daemon(args: DaemonArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    // A config that does not parse is refused now rather than at the first run.
    ctx.config()?;
    let env = DaemonEnv {
        state: ctx.state_file(),
        config_path: ctx.config_path.clone(),
        dirs: ctx.dirs.clone(),
        kube: ctx.kube.clone(),
    };
    let settings = DaemonSettings {
        restore_only: args.restore_only,
        sync_interval: args.sync_interval.0,
        gc_interval: args.gc_interval.0,
        tick: args.tick.0.max(std::time::Duration::from_millis(10)),
    };
    let log = Arc::new(DaemonLog::default());
    daemon::run_daemon(env, settings, Arc::new(SystemClock), log, super::interrupt_token()).await?;
    Ok(Outcome::Success)
}

pub(crate) async fn run_sync(args: SyncArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let report =
        sync::sync_locations(&config, &ctx.dirs, args.storage_location.as_deref(), &ctx.state_file(), Utc::now())
            .await?;
    output::render(ctx.output, &report, |report| {
        let mut text: String = report.locations.iter().map(|c| sync_line(c) + "\n").collect();
        for location in &report.forgotten_locations {
            text.push_str(&format!("{location}: no longer configured, its cache was dropped\n"));
        }
        text
    })?;
    let failed = report.locations.iter().any(|c| c.error.is_some());
    Ok(if failed { Outcome::Failed } else { Outcome::Success })
}

pub(crate) async fn run_gc(args: GcArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let reports = gc::collect_locations(
        &config,
        &ctx.dirs,
        args.storage_location.as_deref(),
        &ctx.state_file(),
        Utc::now(),
        args.dry_run,
    )
    .await?;
    output::render(ctx.output, &reports, |reports| reports.iter().flat_map(gc_lines).map(|l| l + "\n").collect())?;
    Ok(if reports.iter().any(GcReport::has_failures) { Outcome::Failed } else { Outcome::Success })
}

/// `moto: 3 backups, 1 restore; new backups a, b; gone c`.
fn sync_line(c: &LocationChanges) -> String {
    let mut parts = vec![format!("{}: {} backups, {} restores", c.location, c.backups, c.restores)];
    if let Some(error) = &c.error {
        parts.push(format!("error: {error} (its cache was kept)"));
    }
    for (label, names) in [
        ("new backups", &c.added),
        ("gone", &c.removed),
        ("changed", &c.changed),
        ("new restores", &c.restores_added),
        ("gone restores", &c.restores_removed),
    ] {
        if !names.is_empty() {
            parts.push(format!("{label} {}", names.join(", ")));
        }
    }
    if c.is_empty() {
        parts.push("no changes".into());
    }
    parts.join("; ")
}

/// One line per backup gc deleted, skipped or failed to delete, then a summary line.
fn gc_lines(report: &GcReport) -> Vec<String> {
    let location = &report.location;
    if let Some(reason) = &report.skipped_location {
        return vec![format!("{location}: left alone: {reason}")];
    }
    if let Some(error) = &report.error {
        return vec![format!("{location}: error: {error}")];
    }
    let verb = if report.dry_run { "would delete" } else { "deleted" };
    let mut lines = Vec::new();
    for d in &report.deleted {
        let snapshots = match d.snapshots {
            0 => String::new(),
            n => format!(", its {n} volume snapshot(s)"),
        };
        let restores = match d.restores.len() {
            0 => String::new(),
            _ => format!(", the restores made from it: {}", d.restores.join(", ")),
        };
        lines.push(format!(
            "{location}: {verb} backup {} (expired {}){snapshots}{restores}",
            d.backup,
            human_time(&d.expiration)
        ));
    }
    for s in &report.skipped {
        lines.push(format!("{location}: kept backup {}: {}", s.backup, s.reason));
    }
    for f in &report.failed {
        lines.push(format!("{location}: failed to delete backup {}: {}", f.backup, f.error));
    }
    lines.push(format!(
        "{location}: {} {verb}, {} not expired, {} skipped, {} failed",
        report.deleted.len(),
        report.kept,
        report.skipped.len(),
        report.failed.len()
    ));
    lines
}

/// The daemon's log: one timestamped line per action on stderr. Syncs and collections that
/// changed nothing are logged once per location, then only when something happens.
#[derive(Default)]
struct DaemonLog {
    quiet_locations: Mutex<HashSet<String>>,
}

impl DaemonLog {
    fn print(&self, line: &str) {
        eprintln!("{} {line}", Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
    }

    /// Whether an uneventful report for `key` is logged: the first one is.
    fn first_time(&self, key: String) -> bool {
        self.quiet_locations.lock().map(|mut seen| seen.insert(key)).unwrap_or(true)
    }
}

impl DaemonObserver for DaemonLog {
    fn on_event(&self, event: DaemonEvent) {
        match event {
            DaemonEvent::Started { state, schedules, paused, restore_only } => {
                let mode = if restore_only { "; restore-only: no schedules run and no backups expire" } else { "" };
                self.print(&format!(
                    "ark daemon started (pid {}): state {}, {schedules} schedules ({paused} paused){mode}",
                    std::process::id(),
                    state.display()
                ));
            }
            DaemonEvent::SchedulesChanged { added, removed, paused, unpaused } => {
                let mut parts = Vec::new();
                for (label, names) in
                    [("added", added), ("deleted", removed), ("paused", paused), ("unpaused", unpaused)]
                {
                    if !names.is_empty() {
                        parts.push(format!("{label} {}", names.join(", ")));
                    }
                }
                self.print(&format!("state file changed: schedules {}", parts.join("; ")));
            }
            DaemonEvent::BackupStarted { schedule, backup } => {
                self.print(&format!("schedule {schedule}: backup {backup} started"));
            }
            DaemonEvent::BackupWarning { backup, message } => {
                self.print(&format!("backup {backup}: warning: {message}"))
            }
            DaemonEvent::BackupFinished { schedule, backup, phase, reason } => {
                let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
                self.print(&format!("schedule {schedule}: backup {backup} {phase}{reason}"));
            }
            DaemonEvent::Recovered { schedule, backup, phase } => self.print(&format!(
                "schedule {schedule}: backup {backup}, left InProgress by a daemon that stopped, is {phase}"
            )),
            DaemonEvent::Synced(changes) => {
                if !changes.is_empty() || self.first_time(format!("sync {}", changes.location)) {
                    self.print(&format!("sync {}", sync_line(&changes)));
                }
            }
            DaemonEvent::Collected(report) => {
                let uneventful = report.deleted.is_empty() && report.skipped.is_empty() && !report.has_failures();
                if !uneventful || self.first_time(format!("gc {}", report.location)) {
                    for line in gc_lines(&report) {
                        self.print(&format!("gc {line}"));
                    }
                }
            }
            DaemonEvent::Problem(message) => self.print(&format!("error: {message}")),
            DaemonEvent::Stopping { running: 0 } => self.print("stopping"),
            DaemonEvent::Stopping { running } => {
                self.print(&format!("stopping: waiting for {running} running backups to record how far they got"));
            }
            DaemonEvent::Stopped => self.print("ark daemon stopped"),
        }
    }
}
