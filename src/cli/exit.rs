//! The one place that turns outcomes and errors into exit codes and error lines.
//!
//! 0 success, 1 failure, 2 usage or configuration error, 3 partially failed. Scripts and CI
//! jobs rely on these being the same across verbs. An error is a usage error when any error in
//! its chain says so: each library module decides that for its own errors (`is_usage`), and
//! `is_usage` below only asks them.

use std::error::Error;
use std::process::ExitCode;

use crate::config::ConfigError;
use crate::model::{DurationError, NameError, SelectorError};
use crate::ops::backup::BackupError;
use crate::ops::catalog::CatalogError;
use crate::ops::gc::GcError;
use crate::ops::restore::RestoreError;
use crate::ops::schedules::ScheduleError;
use crate::ops::sync::SyncError;
use crate::store::StoreError;

/// How a verb that did not return an error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    /// The operation finished but some items failed (a PartiallyFailed backup or restore).
    PartiallyFailed,
    /// The operation ran and ended Failed; its record says why.
    Failed,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
            Outcome::PartiallyFailed => ExitCode::from(3),
        }
    }
}

/// An error in what the user asked for (flags, names, config) that the CLI itself finds, as
/// opposed to a failure while doing it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct UsageError {
    pub(crate) message: String,
}

pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError { message: message.into() }.into()
}

/// Whether one error of a chain is about what the user asked for.
fn is_usage(cause: &(dyn Error + 'static)) -> bool {
    let always = cause.is::<UsageError>()
        || cause.is::<ConfigError>()
        || cause.is::<NameError>()
        || cause.is::<DurationError>()
        || cause.is::<SelectorError>();
    always
        || cause.downcast_ref::<BackupError>().is_some_and(BackupError::is_usage)
        || cause.downcast_ref::<RestoreError>().is_some_and(RestoreError::is_usage)
        || cause.downcast_ref::<ScheduleError>().is_some_and(ScheduleError::is_usage)
        || cause.downcast_ref::<CatalogError>().is_some_and(CatalogError::is_usage)
        || cause.downcast_ref::<StoreError>().is_some_and(StoreError::is_usage)
        || cause.downcast_ref::<GcError>().is_some_and(GcError::is_usage)
        || cause.downcast_ref::<SyncError>().is_some_and(SyncError::is_usage)
}

/// The exit code for an error that ended a command.
pub(crate) fn status(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(is_usage) { ExitCode::from(2) } else { ExitCode::from(1) }
}

/// Prints `error: ...` with its causes on one line, each said once, and returns the exit code
/// for it.
pub(crate) fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", crate::ops::describe(error.as_ref()));
    status(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(error: anyhow::Error) -> ExitCode {
        status(&error)
    }

    #[test]
    fn errors_in_what_was_asked_for_exit_2_wherever_they_are_in_the_chain() {
        let unknown = || ConfigError::UnknownLocation { name: "nope".into(), known: "none".into() };
        let usage_errors: Vec<anyhow::Error> = vec![
            usage("pass --yes"),
            anyhow::Error::new(unknown()).context("open the storage location"),
            StoreError::from(unknown()).into(),
            GcError::from(unknown()).into(),
            SyncError::from(unknown()).into(),
            ScheduleError::Exists("nightly".into()).into(),
            CatalogError::FileExists { path: "x.tar.gz".into() }.into(),
        ];
        for error in usage_errors {
            assert_eq!(code(error), ExitCode::from(2));
        }
        let failures: Vec<anyhow::Error> = vec![
            anyhow::anyhow!("the bucket is gone"),
            ScheduleError::NotFound("nightly".into()).into(),
            CatalogError::BackupNotFound { name: "b".into(), location: "default".into() }.into(),
        ];
        for error in failures {
            assert_eq!(code(error), ExitCode::from(1));
        }
    }
}
