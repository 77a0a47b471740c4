//! `ark schedule ...`: schedules live in the local state file; `ark daemon` runs them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};

use crate::model::{CronError, CronExpr, ResourceName, ScheduleRecord, parse_timezone};
use crate::ops::schedules::{self, NewSchedule, ScheduleError};
use crate::state::{CachedBackup, DaemonLock};

use super::Ctx;
use super::backup::{BackupOptions, backup_spec, scope_lines};
use super::exit::{Outcome, usage};
use super::output::{self, Table, human_duration, human_time};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a schedule: backups named SCHEDULE-YYYYMMDDhhmmss at each cron time.
    #[command(after_help = "Examples:\n  ark schedule create nightly --schedule \"0 2 * * *\" --ttl 720h\n  \
ark schedule create shop --schedule \"@every 6h\" --include-namespaces shop\n  \
ark schedule create weekdays --schedule \"30 1 * * mon-fri\" --timezone Europe/Berlin --skip-first\n\n\
The daemon (`ark daemon`) takes the first backup at its first look at a new schedule, unless \
--skip-first, then one at each cron time. Cron fields: minute hour day-of-month month day-of-week, \
read as crontab(5) reads them (0 or 7 = Sunday; a day matching either day field runs when both \
are restricted).")]
    Create(Box<CreateArgs>),
    /// List schedules with their last and next runs.
    Get(GetArgs),
    /// Show one schedule: its timing, what its backups take and its backups in the local cache.
    Describe(NameArgs),
    /// Delete a schedule (its backups stay until they expire).
    Delete(NameArgs),
    /// Stop a schedule from running until it is unpaused.
    Pause(NameArgs),
    /// Let a paused schedule run again (a cron time missed while it was paused runs at once).
    Unpause(NameArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Name of the schedule (a DNS-1123 label of at most 48 characters).
    pub(crate) name: ResourceName,
    /// When to back up: a 5-field cron expression (`0 2 * * *`), `@every 6h`, `@daily`,
    /// `@hourly`, `@weekly`, `@monthly` or `@yearly`.
    #[arg(long, value_name = "CRON")]
    pub(crate) schedule: CronExpr,
    /// Time zone the cron expression is read in, an IANA name such as Europe/Berlin (default: UTC).
    #[arg(long, value_name = "TZ", value_parser = timezone_arg)]
    pub(crate) timezone: Option<Tz>,
    /// Do not take the first backup right away; wait for the first cron time.
    #[arg(long)]
    pub(crate) skip_first: bool,
    #[command(flatten)]
    pub(crate) options: BackupOptions,
}

fn timezone_arg(name: &str) -> Result<Tz, CronError> {
    parse_timezone(name)
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

pub(crate) async fn run(cmd: Command, ctx: &Ctx) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Create(args) => create(*args, ctx),
        Command::Get(args) => get(args, ctx),
        Command::Describe(args) => describe(args, ctx),
        Command::Delete(args) => {
            let record = schedules::delete_schedule(&ctx.state_file(), &args.name)?;
            let view = ScheduleView::new(record, Utc::now());
            output::render(ctx.output, &view, |v| {
                format!("Schedule {} deleted; its backups stay until they expire.\n", v.record.name)
            })?;
            Ok(Outcome::Success)
        }
        Command::Pause(args) => set_paused(args, true, ctx),
        Command::Unpause(args) => set_paused(args, false, ctx),
    }
}

/// A schedule as `get` and `describe` show it: the record plus what follows from it now.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleView {
    #[serde(flatten)]
    record: ScheduleRecord,
    status: &'static str,
    /// None while paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_run: Option<DateTime<Utc>>,
    #[serde(skip)]
    now: DateTime<Utc>,
}

impl ScheduleView {
    fn new(record: ScheduleRecord, now: DateTime<Utc>) -> Self {
        let next_run = if record.paused { None } else { record.next_run() };
        let status = if record.paused { "Paused" } else { "Enabled" };
        Self { record, status, next_run, now }
    }

    fn timing(&self) -> String {
        match self.record.timezone {
            Some(tz) => format!("{} ({tz})", self.record.schedule),
            None => self.record.schedule.to_string(),
        }
    }

    fn next_run_text(&self) -> String {
        match self.next_run {
            None if self.record.paused => "<paused>".into(),
            None => "<never>".into(),
            Some(t) if t <= self.now => "now".into(),
            Some(t) => format!("in {}", human_duration(t - self.now)),
        }
    }

    fn last_backup_text(&self) -> String {
        match &self.record.last_backup {
            Some(last) => format!("{} ({})", last.name, last.phase),
            None => "<none>".into(),
        }
    }
}

fn create(args: CreateArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let (location, settings) = config.storage_location(args.options.storage_location.as_deref(), &ctx.dirs)?;
    if settings.read_only {
        return Err(usage(format!("storage location {location} is read-only: no backup can be written to it")));
    }
    let template = backup_spec(&args.options, location.as_str(), &config)?;
    let state = ctx.state_file();
    let new = NewSchedule {
        name: args.name,
        schedule: args.schedule,
        timezone: args.timezone,
        skip_first: args.skip_first,
        template,
    };
    let now = Utc::now();
    let record = schedules::create_schedule(&state, new, now)?;
    let view = ScheduleView::new(record, now);
    output::render(ctx.output, &view, |v| {
        let first = match v.next_run {
            Some(t) if t > now => format!("first backup at {}", human_time(&t)),
            _ => "first backup at the daemon's next look".to_owned(),
        };
        format!("Schedule {} created: {}, {first}, into {location}.\n", v.record.name, v.timing())
    })?;
    match DaemonLock::holder(&state) {
        Some(pid) => eprintln!("the running daemon (pid {pid}) picks it up within seconds"),
        None => eprintln!("no daemon runs on this state: start `ark daemon` to run it"),
    }
    Ok(Outcome::Success)
}

fn get(args: GetArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let all = schedules::list_schedules(&ctx.state_file())?;
    if let Some(missing) = args.names.iter().find(|n| !all.iter().any(|s| s.name.as_str() == n.as_str())) {
        anyhow::bail!("schedule {missing} not found (see `ark schedule get`)");
    }
    let now = Utc::now();
    let views: Vec<ScheduleView> = all
        .into_iter()
        .filter(|s| args.names.is_empty() || args.names.iter().any(|n| n == s.name.as_str()))
        .map(|s| ScheduleView::new(s, now))
        .collect();
    output::render(ctx.output, &views, |views| {
        if views.is_empty() {
            return "No schedules. Create one with `ark schedule create`.\n".into();
        }
        let mut table = Table::new(&["NAME", "STATUS", "SCHEDULE", "LAST BACKUP", "NEXT RUN", "AGE"]);
        for v in views {
            table.row(vec![
                v.record.name.to_string(),
                v.status.to_owned(),
                v.timing(),
                v.last_backup_text(),
                v.next_run_text(),
                human_duration(now - v.record.created),
            ]);
        }
        table.render()
    })?;
    Ok(Outcome::Success)
}

/// A backup of the schedule, as the local cache knows it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CachedScheduleBackup {
    name: String,
    location: String,
    phase: String,
    start_timestamp: DateTime<Utc>,
    expiration: DateTime<Utc>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    #[serde(flatten)]
    view: ScheduleView,
    /// From the local cache (`ark sync` refreshes it), newest first.
    backups: Vec<CachedScheduleBackup>,
}

fn describe(args: NameArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let state = ctx.state_file().load()?;
    let record =
        state.schedule(args.name.as_str()).cloned().ok_or_else(|| ScheduleError::NotFound(args.name.to_string()))?;
    let mut backups: Vec<CachedScheduleBackup> = Vec::new();
    for (location, cache) in &state.cache {
        for (name, cached) in &cache.backups {
            if let CachedBackup::Readable(summary) = cached
                && summary.schedule.as_deref() == Some(record.name.as_str())
            {
                backups.push(CachedScheduleBackup {
                    name: name.clone(),
                    location: location.clone(),
                    phase: summary.phase.to_string(),
                    start_timestamp: summary.start_timestamp,
                    expiration: summary.expiration,
                });
            }
        }
    }
    backups.sort_by_key(|b| std::cmp::Reverse(b.start_timestamp));
    let description = Description { view: ScheduleView::new(record, Utc::now()), backups };
    output::render(ctx.output, &description, describe_text)?;
    Ok(Outcome::Success)
}

fn describe_text(d: &Description) -> String {
    let v = &d.view;
    let r = &v.record;
    let mut out = String::new();
    let mut line = |key: &str, value: String| out.push_str(&format!("{key:<16}{value}\n"));
    line("Name:", r.name.to_string());
    line("Status:", v.status.to_owned());
    line("Schedule:", v.timing());
    line(
        "Next run:",
        match v.next_run {
            Some(t) => format!("{} ({})", human_time(&t), v.next_run_text()),
            None => v.next_run_text(),
        },
    );
    match (&r.last_run, &r.last_backup) {
        (Some(at), Some(last)) => {
            let reason = last.failure_reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
            line("Last run:", format!("{}, backup {} {}{reason}", human_time(at), last.name, last.phase));
        }
        _ => line("Last run:", "<none>".into()),
    }
    line("Skip first:", if r.skip_first { "yes" } else { "no" }.into());
    line("Created:", human_time(&r.created));
    line("Storage:", r.template.storage_location.clone());
    line("TTL:", r.template.ttl.to_string());
    for (key, value) in scope_lines(&r.template) {
        line(key, value);
    }
    out.push_str("\nBackups (from the local cache; `ark sync` refreshes it):\n");
    if d.backups.is_empty() {
        out.push_str("  <none>\n");
    } else {
        let mut table = Table::new(&["NAME", "STATUS", "LOCATION", "CREATED", "EXPIRES"]);
        for b in &d.backups {
            table.row(vec![
                b.name.clone(),
                b.phase.clone(),
                b.location.clone(),
                human_time(&b.start_timestamp),
                human_duration(b.expiration - v.now),
            ]);
        }
        for row in table.render().lines() {
            out.push_str(&format!("  {row}\n"));
        }
    }
    out
}

fn set_paused(args: NameArgs, paused: bool, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let record = schedules::set_paused(&ctx.state_file(), &args.name, paused)?;
    let view = ScheduleView::new(record, Utc::now());
    output::render(ctx.output, &view, |v| {
        if paused {
            format!("Schedule {} paused.\n", v.record.name)
        } else {
            format!("Schedule {} unpaused: next run {}.\n", v.record.name, v.next_run_text())
        }
    })?;
    Ok(Outcome::Success)
}
