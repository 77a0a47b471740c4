//! The local state file (`$XDG_STATE_HOME/ark/state.json`): schedules, what their last runs did,
//! and a cache of the backup and restore records found in each storage location. The bucket
//! stays the source of truth; `ark sync` rebuilds the cache from it.
//!
//! Every change is a read-modify-write under a lock, written atomically (temporary file, fsync,
//! rename), so a crash leaves the old file or the new one and two writers never lose each
//! other's changes. A file ark cannot read is an error naming it; it is never silently
//! replaced. A running daemon also holds a lock of its own for as long as it runs.

mod cache;
mod file;
mod lock;

pub(crate) use cache::{BackupSummary, CachedBackup, CachedRestore, LocationCache};
pub(crate) use file::{Fingerprint, State, StateError, StateFile};
pub(crate) use lock::DaemonLock;
