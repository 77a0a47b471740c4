//! The daemon's scheduled backups, one run each: written into the state file before its backup
//! starts, the backup taken as `backup create` takes it, and what became of it recorded in the
//! schedule and the cache; at start, the runs a daemon that died left InProgress are marked.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{DaemonEnv, DaemonEvent, DaemonObserver};
use crate::cluster::Connection;
use crate::config::Config;
use crate::model::{BackupPhase, BackupRecord, BackupSpec, LastBackup, ResourceName, ScheduleRecord};
use crate::ops::backup::{BackupEvent, BackupObserver, BackupRequest, create_backup};
use crate::ops::describe;
use crate::state::{BackupSummary, CachedBackup, State, StateError};
use crate::store::{Bucket, BucketLayout};

pub(super) const INTERRUPTED_BY_RESTART: &str = "interrupted: the daemon running it stopped before it finished";

/// What a finished run reports back to the loop.
pub(super) struct RunOutcome {
    schedule: ResourceName,
    backup: ResourceName,
    result: Result<BackupRecord, String>,
}

/// Writes the run into the state file before its backup starts; returns the backup's name and
/// spec and the state as written, or None when the schedule went away or was paused meanwhile,
/// or the write failed.
pub(super) fn record_run_start(
    env: &DaemonEnv,
    schedule: &ScheduleRecord,
    now: DateTime<Utc>,
    observer: &dyn DaemonObserver,
) -> Option<(ResourceName, BackupSpec, State)> {
    let backup = match schedule.backup_name(now) {
        Ok(name) => name,
        Err(e) => {
            observer.on_event(DaemonEvent::Problem(format!("schedule {}: backup name: {e}", schedule.name)));
            return None;
        }
    };
    let marked = env.state.update(|s| {
        let Some(current) = s.schedule_mut(schedule.name.as_str()).filter(|c| !c.paused) else {
            return Ok::<_, StateError>(None);
        };
        current.last_run = Some(now);
        current.last_backup =
            Some(LastBackup { name: backup.clone(), phase: BackupPhase::InProgress, failure_reason: None });
        Ok(Some(current.backup_spec()))
    });
    match marked {
        Ok((spec, fresh)) => spec.map(|spec| (backup, spec, fresh)),
        Err(e) => {
            observer.on_event(DaemonEvent::Problem(format!(
                "schedule {}: not run: record the run: {}",
                schedule.name,
                describe(&e)
            )));
            None
        }
    }
}

/// Forwards a scheduled backup's warnings to the daemon's log; progress is not logged.
struct ScheduledBackupObserver {
    backup: String,
    observer: Arc<dyn DaemonObserver>,
}

impl BackupObserver for ScheduledBackupObserver {
    fn on_event(&self, event: BackupEvent) {
        if let BackupEvent::Warning(message) = event {
            self.observer.on_event(DaemonEvent::BackupWarning { backup: self.backup.clone(), message });
        }
    }
}

pub(super) async fn run_backup(
    env: DaemonEnv,
    schedule: ResourceName,
    backup: ResourceName,
    spec: BackupSpec,
    started: DateTime<Utc>,
    observer: Arc<dyn DaemonObserver>,
    cancel: CancellationToken,
) -> RunOutcome {
    let result = async {
        // Read at each run, so config changes apply without a restart.
        let config = Config::load(&env.config_path).map_err(|e| describe(&e))?;
        let bucket = Bucket::open_configured(&config, &env.dirs, Some(&spec.storage_location))
            .await
            .map_err(|e| describe(&e))?;
        let conn = Connection::open(&env.kube, config.tuning.compress_responses).await.map_err(|e| describe(&e))?;
        let reporter = ScheduledBackupObserver { backup: backup.to_string(), observer };
        let request =
            BackupRequest { name: backup.clone(), spec, snapshot_locations: config.snapshot_locations.clone() };
        create_backup(&conn, &bucket, request, &config.tuning, &reporter, cancel, started)
            .await
            .map_err(|e| describe(&e))
    }
    .await;
    RunOutcome { schedule, backup, result }
}

pub(super) fn finish_run(
    env: &DaemonEnv,
    joined: Result<(tokio::task::Id, RunOutcome), tokio::task::JoinError>,
    running: &mut HashMap<tokio::task::Id, ResourceName>,
    observer: &dyn DaemonObserver,
) {
    let outcome = match joined {
        Ok((id, outcome)) => {
            running.remove(&id);
            outcome
        }
        Err(e) => {
            let schedule = running.remove(&e.id()).map(|n| n.to_string()).unwrap_or_default();
            observer.on_event(DaemonEvent::Problem(format!("the backup of schedule {schedule} stopped: {e}")));
            return;
        }
    };
    let (phase, reason) = match &outcome.result {
        Ok(record) => (record.phase, record.failure_reason.clone()),
        Err(error) => (BackupPhase::Failed, Some(error.clone())),
    };
    observer.on_event(DaemonEvent::BackupFinished {
        schedule: outcome.schedule.to_string(),
        backup: outcome.backup.to_string(),
        phase,
        reason: reason.clone(),
    });
    set_last_phase(env, &outcome.schedule, &outcome.backup, phase, reason, observer);
    if let Ok(record) = &outcome.result {
        remember_backup(env, record, observer);
    }
}

/// Puts a backup the daemon just took into the cache of its location (if that location has
/// been synced), so the cache need not wait for the next sync to know it.
fn remember_backup(env: &DaemonEnv, record: &BackupRecord, observer: &dyn DaemonObserver) {
    let result = env.state.update(|s| {
        if let Some(cache) = s.cache.get_mut(&record.spec.storage_location) {
            cache.backups.insert(record.name.to_string(), CachedBackup::Readable(BackupSummary::from(record)));
        }
        Ok::<_, StateError>(())
    });
    if let Err(e) = result {
        observer.on_event(DaemonEvent::Problem(format!("cache backup {}: {}", record.name, describe(&e))));
    }
}

/// Records what became of a schedule's backup, if that backup is still its last one.
fn set_last_phase(
    env: &DaemonEnv,
    schedule: &ResourceName,
    backup: &ResourceName,
    phase: BackupPhase,
    failure_reason: Option<String>,
    observer: &dyn DaemonObserver,
) {
    let result = env.state.update(|s| {
        if let Some(last) = s.schedule_mut(schedule.as_str()).and_then(|x| x.last_backup.as_mut())
            && last.name == *backup
        {
            last.phase = phase;
            last.failure_reason = failure_reason;
        }
        Ok::<_, StateError>(())
    });
    if let Err(e) = result {
        observer.on_event(DaemonEvent::Problem(format!("record the end of backup {backup}: {}", describe(&e))));
    }
}

/// A daemon holding the lock knows no backup of its schedules is running, so a last backup the
/// state file still calls InProgress was cut short by a daemon that died: its record in the
/// bucket says InProgress for ever unless it is marked now.
pub(super) async fn recover_abandoned_runs(
    env: &DaemonEnv,
    state: &State,
    now: DateTime<Utc>,
    observer: &dyn DaemonObserver,
) {
    for schedule in &state.schedules {
        let Some(last) = schedule.last_backup.as_ref().filter(|l| l.phase == BackupPhase::InProgress) else {
            continue;
        };
        match mark_abandoned(env, &schedule.template.storage_location, &last.name, now).await {
            Ok((phase, reason)) => {
                observer.on_event(DaemonEvent::Recovered {
                    schedule: schedule.name.to_string(),
                    backup: last.name.to_string(),
                    phase,
                });
                set_last_phase(env, &schedule.name, &last.name, phase, reason, observer);
            }
            Err(e) => observer.on_event(DaemonEvent::Problem(format!(
                "backup {} of schedule {} was left InProgress by a previous daemon and cannot be checked: {e}",
                last.name, schedule.name
            ))),
        }
    }
}

/// Marks a backup's record Failed if it is still InProgress; returns its phase now.
async fn mark_abandoned(
    env: &DaemonEnv,
    location: &str,
    backup: &ResourceName,
    now: DateTime<Utc>,
) -> Result<(BackupPhase, Option<String>), String> {
    let config = Config::load(&env.config_path).map_err(|e| describe(&e))?;
    let bucket = Bucket::open_configured(&config, &env.dirs, Some(location)).await.map_err(|e| describe(&e))?;
    let key = BucketLayout::backup_record(backup);
    let mut record: BackupRecord = match bucket.get_json(&key).await {
        Ok(record) => record,
        // It died before the backup wrote anything.
        Err(e) if e.is_not_found() => return Ok((BackupPhase::Failed, Some(INTERRUPTED_BY_RESTART.to_owned()))),
        Err(e) => return Err(describe(&e)),
    };
    if record.phase == BackupPhase::InProgress {
        record.phase = BackupPhase::Failed;
        record.failure_reason = Some(INTERRUPTED_BY_RESTART.to_owned());
        record.completion_timestamp = Some(now);
        bucket.put_json(&key, &record).await.map_err(|e| describe(&e))?;
    }
    Ok((record.phase, record.failure_reason))
}
