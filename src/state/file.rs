//! Reading and changing `state.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LocationCache;
use crate::fsutil::{WriteError, create_private_dir, write_atomic};
use crate::model::ScheduleRecord;

/// The format version this ark writes and the newest it reads.
pub(crate) const STATE_VERSION: u64 = 1;

const STATE_FILE: &str = "state.json";
/// Held while one process reads, changes and writes the state file.
const UPDATE_LOCK: &str = "state.lock";
/// Held by a running daemon for its whole life.
pub(super) const DAEMON_LOCK: &str = "daemon.lock";

#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("read state file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("state file {path} is not valid: {problem}; fix it or move it away (ark does not replace it)")]
    Corrupt { path: PathBuf, problem: String },
    #[error(
        "state file {path} was written by a newer ark (state version {found}; this ark reads up to {STATE_VERSION}): \
         upgrade ark"
    )]
    Newer { path: PathBuf, found: u64 },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("lock {path}")]
    Lock { path: PathBuf, source: std::io::Error },
    #[error(
        "another ark daemon (pid {pid}) is running with state file {path}; one daemon per state file: stop it first"
    )]
    DaemonRunning { path: PathBuf, pid: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct State {
    pub(crate) version: u64,
    /// Sorted by name; names are unique.
    #[serde(default)]
    pub(crate) schedules: Vec<ScheduleRecord>,
    /// Storage location name -> what the last sync found in it.
    #[serde(default)]
    pub(crate) cache: BTreeMap<String, LocationCache>,
}

impl Default for State {
    fn default() -> Self {
        Self { version: STATE_VERSION, schedules: Vec::new(), cache: BTreeMap::new() }
    }
}

impl State {
    pub(crate) fn schedule(&self, name: &str) -> Option<&ScheduleRecord> {
        self.schedules.iter().find(|s| s.name.as_str() == name)
    }

    pub(crate) fn schedule_mut(&mut self, name: &str) -> Option<&mut ScheduleRecord> {
        self.schedules.iter_mut().find(|s| s.name.as_str() == name)
    }

    /// Drops backups and restores known to be deleted from a location's cache.
    pub(crate) fn forget(&mut self, location: &str, backups: &[String], restores: &[String]) {
        if let Some(cache) = self.cache.get_mut(location) {
            cache.backups.retain(|name, _| !backups.contains(name));
            cache.restores.retain(|name, _| !restores.contains(name));
        }
    }
}

/// Just enough of the file to tell its version before reading the rest.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<u64>,
}

/// Identifies one version of the file on disk: every write renames a new file into place, so
/// the inode changes even when the size and the timestamp do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    inode: u64,
    modified_ns: i128,
    len: u64,
}

/// The state directory and the files in it.
#[derive(Debug, Clone)]
pub(crate) struct StateFile {
    dir: PathBuf,
}

impl StateFile {
    pub(crate) fn in_dir(dir: &Path) -> Self {
        Self { dir: dir.to_owned() }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    pub(super) fn lock_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The state as it is on disk; no file yet is an empty state.
    pub(crate) fn load(&self) -> Result<State, StateError> {
        let path = self.path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(source) => return Err(StateError::Read { path, source }),
        };
        parse(&path, &bytes)
    }

    /// Reads the state, lets `change` change it and writes it back if it changed, all under
    /// the update lock. When `change` fails, nothing is written. Returns what `change`
    /// returned and the state as written.
    pub(crate) fn update<T, E: From<StateError>>(
        &self,
        change: impl FnOnce(&mut State) -> Result<T, E>,
    ) -> Result<(T, State), E> {
        let _lock = self.lock_for_update()?;
        let before = self.load()?;
        let mut state = before.clone();
        let value = change(&mut state)?;
        if state != before {
            state.schedules.sort_by(|a, b| a.name.cmp(&b.name));
            let mut json = serde_json::to_vec_pretty(&state).map_err(|e| StateError::Corrupt {
                path: self.path(),
                problem: format!("cannot encode the new state: {e}"),
            })?;
            json.push(b'\n');
            write_atomic(&self.path(), &json).map_err(StateError::from)?;
        }
        Ok((value, state))
    }

    fn lock_for_update(&self) -> Result<std::fs::File, StateError> {
        let path = self.lock_path(UPDATE_LOCK);
        let lock_err = |source| StateError::Lock { path: path.clone(), source };
        create_private_dir(&self.dir).map_err(lock_err)?;
        let file = open_lock_file(&path).map_err(lock_err)?;
        // Held for milliseconds by each writer; released when the file is dropped.
        file.lock().map_err(lock_err)?;
        Ok(file)
    }

    /// Which version of the file is on disk now (None when there is none).
    pub(crate) fn fingerprint(&self) -> Option<Fingerprint> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.path()).ok()?;
        Some(Fingerprint {
            inode: meta.ino(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            len: meta.len(),
        })
    }
}

pub(super) fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<State, StateError> {
    let corrupt = |e: serde_json::Error| StateError::Corrupt { path: path.to_owned(), problem: e.to_string() };
    let probe: VersionProbe = serde_json::from_slice(bytes).map_err(corrupt)?;
    match probe.version {
        None => {
            return Err(StateError::Corrupt { path: path.to_owned(), problem: "it has no version field".into() });
        }
        Some(found) if found > STATE_VERSION => return Err(StateError::Newer { path: path.to_owned(), found }),
        Some(_) => {}
    }
    serde_json::from_slice(bytes).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule_json(name: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name,
            "schedule": "@every 1h",
            "created": "2026-11-24T13:00:00Z",
            "template": {"ttl": "72h", "storageLocation": "default"},
        })
    }

    fn add(file: &StateFile, name: &str) {
        file.update(|state| {
            state.schedules.push(serde_json::from_value(schedule_json(name)).unwrap());
            Ok::<_, StateError>(())
        })
        .unwrap();
    }

    #[test]
    fn updates_round_trip_sorted_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(&dir.path().join("ark"));
        assert_eq!(file.load().unwrap(), State::default(), "no file is an empty state");
        add(&file, "b");
        add(&file, "a");
        let state = file.load().unwrap();
        let names: Vec<&str> = state.schedules.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(state.version, STATE_VERSION);
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_failed_change_writes_nothing_and_an_unchanged_state_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        add(&file, "a");
        let before = file.fingerprint();
        let result = file.update(|state| {
            state.schedules.clear();
            Err::<(), _>(StateError::Corrupt { path: "x".into(), problem: "refused".into() })
        });
        assert!(result.is_err());
        assert_eq!(file.load().unwrap().schedules.len(), 1);
        file.update(|_| Ok::<_, StateError>(())).unwrap();
        assert_eq!(file.fingerprint(), before, "no write when nothing changed");
    }

    #[test]
    fn every_write_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        assert_eq!(file.fingerprint(), None);
        add(&file, "a");
        let first = file.fingerprint();
        add(&file, "b");
        assert_ne!(file.fingerprint(), first);
    }

    #[test]
    fn a_leftover_temporary_file_from_a_crash_does_not_matter() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        add(&file, "a");
        // What a crash between writing the temporary file and renaming it leaves behind.
        std::fs::write(dir.path().join(".state.json.tmp-999999"), b"{\"version\": 1, \"sched").unwrap();
        assert_eq!(file.load().unwrap().schedules.len(), 1);
        add(&file, "b");
        assert_eq!(file.load().unwrap().schedules.len(), 2);
    }

    #[test]
    fn unreadable_or_newer_files_are_errors_naming_the_file_and_stay_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        let cases: [(&[u8], &str); 5] = [
            (b"{\"version\": 1, \"schedules\": [", "EOF while parsing"),
            (b"", "EOF while parsing"),
            (b"{\"schedules\": []}", "no version field"),
            (b"{\"version\": 2, \"schedules\": []}", "newer ark (state version 2"),
            (b"{\"version\": 1, \"schedules\": [{\"name\": \"Bad_Name\"}]}", "Bad_Name"),
        ];
        for (content, needle) in cases {
            std::fs::write(file.path(), content).unwrap();
            let message = file.load().unwrap_err().to_string();
            assert!(message.contains(&file.path().display().to_string()), "{message}");
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            let result = file.update(|state| {
                state.schedules.clear();
                Ok::<_, StateError>(())
            });
            assert!(result.is_err());
            assert_eq!(std::fs::read(file.path()).unwrap(), content, "file left as it was");
        }
    }

    #[test]
    fn forget_drops_deleted_backups_and_restores_from_the_cache() {
        let mut state: State = serde_json::from_value(serde_json::json!({
            "version": 1,
            "cache": {"moto": {"synced": "2026-11-24T13:00:00Z",
                "backups": {"a": {"unreadable": {"reason": "x"}}, "b": {"unreadable": {"reason": "y"}}},
                "restores": {"r": {"backup": "a", "phase": "Completed", "startTimestamp": "2026-11-24T13:00:00Z"}}}}
        }))
        .unwrap();
        state.forget("moto", &["a".into()], &["r".into()]);
        let cache = &state.cache["moto"];
        assert_eq!(cache.backups.keys().collect::<Vec<_>>(), ["b"]);
        assert!(cache.restores.is_empty());
    }
}
