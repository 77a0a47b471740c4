//! Schedules in the local state file: create, read, pause, unpause and delete them. Running
//! them is the daemon's job; deleting one never touches the backups it made.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::model::{BackupSpec, CronExpr, MAX_SCHEDULE_NAME_LEN, PatternError, ResourceName, ScheduleRecord};
use crate::state::{StateError, StateFile};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ScheduleError {
    #[error("schedule {0} already exists (see `ark schedule describe {0}`); delete it first or choose another name")]
    Exists(String),
    #[error("schedule {0} not found (see `ark schedule get`)")]
    NotFound(String),
    #[error(
        "schedule name {0:?} is longer than {MAX_SCHEDULE_NAME_LEN} characters: its backups are named \
         NAME-YYYYMMDDhhmmss, which must fit in 63"
    )]
    NameTooLong(String),
    #[error("invalid backup filter")]
    Filter(#[source] PatternError),
    #[error(transparent)]
    State(#[from] StateError),
}

impl ScheduleError {
    /// Errors in what the user asked for, as opposed to failures while doing it.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::Exists(_) | Self::NameTooLong(_) | Self::Filter(_))
    }
}

pub(crate) struct NewSchedule {
    pub(crate) name: ResourceName,
    pub(crate) schedule: CronExpr,
    pub(crate) timezone: Option<Tz>,
    pub(crate) skip_first: bool,
    pub(crate) template: BackupSpec,
}

/// Adds a schedule; a daemon running on the same state file picks it up at its next look.
pub(crate) fn create_schedule(
    state: &StateFile,
    new: NewSchedule,
    now: DateTime<Utc>,
) -> Result<ScheduleRecord, ScheduleError> {
    if new.name.as_str().len() > MAX_SCHEDULE_NAME_LEN {
        return Err(ScheduleError::NameTooLong(new.name.to_string()));
    }
    new.template.scope.validate().map_err(ScheduleError::Filter)?;
    let record = ScheduleRecord {
        template: BackupSpec { schedule: Some(new.name.to_string()), ..new.template },
        name: new.name,
        schedule: new.schedule,
        timezone: new.timezone,
        paused: false,
        skip_first: new.skip_first,
        created: now,
        last_run: None,
        last_backup: None,
    };
    let (record, _) = state.update(|s| -> Result<_, ScheduleError> {
        if s.schedule(record.name.as_str()).is_some() {
            return Err(ScheduleError::Exists(record.name.to_string()));
        }
        s.schedules.push(record.clone());
        Ok(record)
    })?;
    Ok(record)
}

/// Every schedule, by name.
pub(crate) fn list_schedules(state: &StateFile) -> Result<Vec<ScheduleRecord>, StateError> {
    Ok(state.load()?.schedules)
}

/// Pauses or unpauses a schedule and returns it as it now is. A schedule unpaused after a
/// cron time passed is due at once, as after a daemon restart.
pub(crate) fn set_paused(
    state: &StateFile,
    name: &ResourceName,
    paused: bool,
) -> Result<ScheduleRecord, ScheduleError> {
    let (record, _) = state.update(|s| -> Result<_, ScheduleError> {
        let schedule = s.schedule_mut(name.as_str()).ok_or_else(|| ScheduleError::NotFound(name.to_string()))?;
        schedule.paused = paused;
        Ok(schedule.clone())
    })?;
    Ok(record)
}

/// Removes a schedule and returns what it was; its backups stay until they expire.
pub(crate) fn delete_schedule(state: &StateFile, name: &ResourceName) -> Result<ScheduleRecord, ScheduleError> {
    let (record, _) = state.update(|s| -> Result<_, ScheduleError> {
        let index = s
            .schedules
            .iter()
            .position(|x| x.name == *name)
            .ok_or_else(|| ScheduleError::NotFound(name.to_string()))?;
        Ok(s.schedules.remove(index))
    })?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, expr: &str) -> NewSchedule {
        NewSchedule {
            name: ResourceName::parse(name).unwrap(),
            schedule: CronExpr::parse(expr).unwrap(),
            timezone: None,
            skip_first: false,
            template: serde_json::from_value::<BackupSpec>(
                serde_json::json!({"ttl": "1h", "storageLocation": "default"}),
            )
            .unwrap(),
        }
    }

    #[test]
    fn create_pause_unpause_delete_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateFile::in_dir(dir.path());
        let now = Utc::now();
        let created = create_schedule(&state, new("nightly", "0 2 * * *"), now).unwrap();
        assert_eq!(created.template.schedule.as_deref(), Some("nightly"));
        assert!(matches!(create_schedule(&state, new("nightly", "@daily"), now), Err(ScheduleError::Exists(_))));
        let name = ResourceName::parse("nightly").unwrap();
        assert!(set_paused(&state, &name, true).unwrap().paused);
        assert!(list_schedules(&state).unwrap()[0].paused);
        assert!(!set_paused(&state, &name, false).unwrap().paused);
        delete_schedule(&state, &name).unwrap();
        assert!(list_schedules(&state).unwrap().is_empty());
        assert!(matches!(delete_schedule(&state, &name), Err(ScheduleError::NotFound(_))));
    }

    #[test]
    fn names_too_long_for_their_backups_and_bad_filters_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateFile::in_dir(dir.path());
        let long = "x".repeat(MAX_SCHEDULE_NAME_LEN + 1);
        let err = create_schedule(&state, new(&long, "@daily"), Utc::now()).unwrap_err();
        assert!(err.is_usage() && err.to_string().contains("NAME-YYYYMMDDhhmmss"), "{err}");
        let mut bad = new("ok", "@daily");
        bad.template.scope.namespaces.include = vec![crate::model::NamePattern::new("[x")];
        assert!(create_schedule(&state, bad, Utc::now()).unwrap_err().is_usage());
        assert!(state.fingerprint().is_none(), "nothing written");
    }
}
