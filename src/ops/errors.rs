//! Errors as text, for reports that carry them (a gc or sync report, the daemon's log, a failed
//! backup's record) and for the line the CLI prints when a command fails.

/// The error and its causes on one line, joined by `: `. A cause whose text the line already
/// holds is left out: many libraries repeat their source's text in their own message, and a
/// reader needs to see it once.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(source) = cause {
        let said = source.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
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

    /// An error that, like kube's, says its source's text in its own message as well.
    #[derive(Debug, thiserror::Error)]
    #[error("failed to read kubeconfig: {0}")]
    struct Repeating(#[source] std::io::Error);

    #[test]
    fn says_each_cause_once() {
        let outer = crate::fsutil::WriteError {
            path: "/s/state.json".into(),
            source: std::io::Error::other(Repeating(std::io::Error::other("no such file"))),
        };
        assert_eq!(describe(&outer), "write /s/state.json: failed to read kubeconfig: no such file");
    }
}
