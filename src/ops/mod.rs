//! Operations: backup, restore, schedules, garbage collection and sync, built from the cluster,
//! archive, store and state layers. Each reports progress through events the CLI renders.

pub(crate) mod backup;
pub(crate) mod backups;
mod hooks;
pub(crate) mod restore;
mod restore_rules;
pub(crate) mod restores;
mod run_log;
mod spool;
pub(crate) mod volumes;
