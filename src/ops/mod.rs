//! Operations: backup, restore, schedules, garbage collection and sync, built from the cluster,
//! archive, store and state layers. Each reports progress through events the CLI renders.

pub(crate) mod backup;
pub(crate) mod backups;
pub(crate) mod daemon;
mod errors;
pub(crate) mod gc;
pub(crate) mod restore;
pub(crate) mod restores;
mod run_log;
pub(crate) mod schedules;
pub(crate) mod sync;
pub(crate) mod volumes;

pub(crate) use errors::describe;
