//! The one place that turns outcomes and errors into exit codes and error lines.
//!
//! 0 success, 1 failure, 2 usage or configuration error, 3 partially failed. Scripts and CI
//! jobs rely on these being the same across verbs.

use std::process::ExitCode;

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

/// An error in what the user asked for (flags, names, config), as opposed to a failure while
/// doing it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct UsageError {
    pub(crate) message: String,
}

pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError { message: message.into() }.into()
}

fn is_usage_error(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<crate::config::ConfigError>()
            || cause.is::<crate::model::NameError>()
            || cause.is::<crate::model::DurationError>()
            || cause.downcast_ref::<crate::store::StoreError>().is_some_and(crate::store::StoreError::is_usage)
    })
}

/// Prints `error: ...` with its causes on one line, and returns the exit code for it.
pub(crate) fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    if is_usage_error(error) { ExitCode::from(2) } else { ExitCode::from(1) }
}
