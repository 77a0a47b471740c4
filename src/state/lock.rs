//! The daemon's lock: one `ark daemon` per state file. An advisory lock on `daemon.lock` beside
//! the state file, held for the daemon's life; the kernel releases it when the process dies,
//! however it dies, so a killed daemon never blocks the next one.

use std::io::{Read, Seek, Write};

use super::StateError;
use super::file::{DAEMON_LOCK, StateFile, open_lock_file};
use crate::fsutil::create_private_dir;

/// Held while a daemon runs; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DaemonLock {
    _file: std::fs::File,
}

impl DaemonLock {
    /// Takes the lock, or says which process holds it.
    pub(crate) fn acquire(state: &StateFile) -> Result<Self, StateError> {
        let path = state.lock_path(DAEMON_LOCK);
        let lock_err = |source| StateError::Lock { path: path.clone(), source };
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(lock_err)?;
        }
        let mut file = open_lock_file(&path).map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::DaemonRunning { path: state.path(), pid: read_pid(&mut file) });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(lock_err(source)),
        }
        // The pid is for the message a second daemon prints; the lock itself is what counts.
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(lock_err)?;
        Ok(Self { _file: file })
    }

    /// The pid of the daemon running on this state file, if one is.
    pub(crate) fn holder(state: &StateFile) -> Option<String> {
        let mut file = std::fs::File::open(state.lock_path(DAEMON_LOCK)).ok()?;
        match file.try_lock_shared() {
            Err(std::fs::TryLockError::WouldBlock) => Some(read_pid(&mut file)),
            _ => None,
        }
    }
}

fn read_pid(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    match text.trim() {
        "" => "unknown".to_owned(),
        pid => pid.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_daemon_lock_on_the_same_state_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateFile::in_dir(dir.path());
        assert_eq!(DaemonLock::holder(&state), None);
        let first = DaemonLock::acquire(&state).unwrap();
        let pid = std::process::id().to_string();
        assert_eq!(DaemonLock::holder(&state), Some(pid.clone()));
        let message = DaemonLock::acquire(&state).unwrap_err().to_string();
        assert!(message.contains(&format!("pid {pid}")), "{message}");
        assert!(message.contains(&state.path().display().to_string()), "{message}");
        drop(first);
        assert_eq!(DaemonLock::holder(&state), None);
        DaemonLock::acquire(&state).unwrap();
    }
}
