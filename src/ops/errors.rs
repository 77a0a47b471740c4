//! Errors as text for reports that carry them (a gc or sync report, the daemon's log), where one
//! location's or one backup's failure is reported and the work goes on.

/// The error and its causes on one line, as the CLI prints an error that ends a command.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(source) = cause {
        text.push_str(": ");
        text.push_str(&source.to_string());
        cause = source.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_the_causes() {
        let inner = std::io::Error::other("disk full");
        let outer = crate::fsutil::WriteError { path: "/s/state.json".into(), source: inner };
        assert_eq!(describe(&outer), "write /s/state.json: disk full");
    }
}
