//! Operations: backup, restore, the records a storage location holds (`catalog`), schedules
//! and the daemon that runs them, garbage collection and sync, built from the cluster, archive,
//! store, snapshot and state layers. Each reports progress through events the CLI renders;
//! none prints or prompts.

pub(crate) mod backup;
pub(crate) mod catalog;
pub(crate) mod daemon;
mod errors;
pub(crate) mod gc;
pub(crate) mod restore;
mod run_log;
pub(crate) mod schedules;
pub(crate) mod sync;
pub(crate) mod volumes;

pub(crate) use errors::describe;
