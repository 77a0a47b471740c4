//! A schedule: the spec of the backups to take, when to take them, and what its last run did.
//! Kept in the local state file; `ark daemon` turns due schedules into backups. The due-time
//! rules live here as plain functions of the record and a time, so they are tested without a
//! clock or a daemon.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{BackupPhase, BackupSpec, CronExpr, NameError, ResourceName};

/// Scheduled backups are named `<schedule>-<YYYYMMDDhhmmss>` and must still be DNS-1123 labels
/// (63 characters), which leaves 48 for the schedule's name.
pub(crate) const MAX_SCHEDULE_NAME_LEN: usize = 63 - "-YYYYMMDDhhmmss".len();

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleRecord {
    pub(crate) name: ResourceName,
    /// When to run: a cron expression, `@daily` and friends, or `@every DURATION`.
    pub(crate) schedule: CronExpr,
    /// The zone the cron expression is read in; none is UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timezone: Option<Tz>,
    #[serde(default)]
    pub(crate) paused: bool,
    /// Wait for the first cron time instead of taking a backup at the daemon's first look.
    #[serde(default)]
    pub(crate) skip_first: bool,
    pub(crate) created: DateTime<Utc>,
    /// What every backup of the schedule takes, as `backup create` builds it from the same flags.
    pub(crate) template: BackupSpec,
    /// When the last run started (whatever became of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_run: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_backup: Option<LastBackup>,
}

/// The backup the last run made, as far as the daemon knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LastBackup {
    pub(crate) name: ResourceName,
    pub(crate) phase: BackupPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_reason: Option<String>,
}

impl ScheduleRecord {
    /// When the next backup is due. A new schedule is due at once (the daemon's first look)
    /// unless it skips its first run. After that, the first time after the last run: a daemon
    /// that was down through several slots finds one due time in the past, runs once, and
    /// continues from the time it ran, so missed slots are never run one by one.
    pub(crate) fn next_run(&self) -> Option<DateTime<Utc>> {
        let timezone = self.timezone.unwrap_or(Tz::UTC);
        match self.last_run {
            None if !self.skip_first => Some(self.created),
            None => self.schedule.next_after(self.created, timezone),
            Some(last) => self.schedule.next_after(last, timezone),
        }
    }

    pub(crate) fn is_due(&self, now: DateTime<Utc>) -> bool {
        !self.paused && self.next_run().is_some_and(|due| due <= now)
    }

    /// The name of the backup a run started at `at` takes.
    pub(crate) fn backup_name(&self, at: DateTime<Utc>) -> Result<ResourceName, NameError> {
        ResourceName::parse(&format!("{}-{}", self.name, at.format("%Y%m%d%H%M%S")))
    }

    /// The spec of the backup a run takes: the template, marked with the schedule's name.
    pub(crate) fn backup_spec(&self) -> BackupSpec {
        BackupSpec { schedule: Some(self.name.to_string()), ..self.template.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn schedule(expr: &str, created: &str) -> ScheduleRecord {
        ScheduleRecord {
            name: ResourceName::parse("nightly").unwrap(),
            schedule: CronExpr::parse(expr).unwrap(),
            timezone: None,
            paused: false,
            skip_first: false,
            created: at(created),
            template: serde_json::from_value::<BackupSpec>(
                serde_json::json!({"ttl": "72h", "storageLocation": "default"}),
            )
            .unwrap(),
            last_run: None,
            last_backup: None,
        }
    }

    #[test]
    fn a_new_schedule_runs_at_first_look_unless_it_skips_the_first() {
        let s = schedule("0 2 * * *", "2026-11-24T13:00:00Z");
        assert_eq!(s.next_run(), Some(at("2026-11-24T13:00:00Z")));
        assert!(s.is_due(at("2026-11-24T13:00:01Z")));

        let skip = ScheduleRecord { skip_first: true, ..s };
        assert_eq!(skip.next_run(), Some(at("2026-11-25T02:00:00Z")));
        assert!(!skip.is_due(at("2026-11-25T01:59:59Z")));
        assert!(skip.is_due(at("2026-11-25T02:00:00Z")));
    }

    #[test]
    fn missed_slots_run_once_then_the_schedule_continues_from_the_run() {
        let mut s = schedule("0 2 * * *", "2026-11-01T00:00:00Z");
        s.last_run = Some(at("2026-11-20T02:00:00Z"));
        // The daemon was down from the 20th to the 24th: one run is due, not four.
        let now = at("2026-11-24T13:00:00Z");
        assert!(s.is_due(now));
        s.last_run = Some(now);
        assert!(!s.is_due(at("2026-11-25T01:59:59Z")));
        assert_eq!(s.next_run(), Some(at("2026-11-25T02:00:00Z")));
    }

    #[test]
    fn every_interval_counts_from_the_last_run_and_paused_schedules_are_never_due() {
        let mut s = schedule("@every 5s", "2026-11-24T13:00:00Z");
        s.last_run = Some(at("2026-11-24T13:00:00.700Z"));
        assert!(!s.is_due(at("2026-11-24T13:00:05Z")));
        assert!(s.is_due(at("2026-11-24T13:00:05.700Z")));
        s.paused = true;
        assert!(!s.is_due(at("2026-11-25T00:00:00Z")));
    }

    #[test]
    fn backups_are_named_after_the_schedule_and_the_utc_start() {
        let s = schedule("@daily", "2026-11-24T13:00:00Z");
        assert_eq!(s.backup_name(at("2026-11-24T02:03:04.9Z")).unwrap().as_str(), "nightly-20261124020304");
        assert_eq!(s.backup_spec().schedule.as_deref(), Some("nightly"));
        let longest = ScheduleRecord { name: ResourceName::parse(&"x".repeat(MAX_SCHEDULE_NAME_LEN)).unwrap(), ..s };
        assert!(longest.backup_name(at("2026-11-24T02:03:04Z")).is_ok());
    }
}
