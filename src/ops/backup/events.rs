//! What a running backup tells its caller, and the one way its parts report a problem: a
//! `RunReporter` writes it to the backup's log, tells the observer, and keeps it for the record.
//! The listing, the volume snapshots and the hooks all report through one.

use crate::model::{BackupRecord, HookResult};
use crate::ops::run_log::RunLog;

/// What a running backup reports; the CLI renders it.
#[derive(Debug, Clone)]
pub(crate) enum BackupEvent {
    Started {
        types: usize,
        namespaces: usize,
        revision: String,
    },
    TypeListed {
        group_resource: String,
        items: u64,
    },
    /// Waiting for volume snapshots to complete.
    Snapshots {
        completed: usize,
        total: usize,
    },
    Progress {
        items: u64,
        bytes: u64,
    },
    Finishing,
    Warning(String),
    Hook(Box<HookResult>),
}

pub(crate) trait BackupObserver: Send + Sync {
    fn on_event(&self, event: BackupEvent);
}

/// Where one part of a backup reports: the backup's log, its observer, and the warnings and
/// errors kept for its record until the part hands them over (`record_into`), so that the
/// record lists them in the order the parts finish.
pub(crate) struct RunReporter<'a> {
    pub(crate) log: &'a RunLog,
    pub(crate) observer: &'a dyn BackupObserver,
    warnings: Vec<String>,
    errors: Vec<String>,
}

impl<'a> RunReporter<'a> {
    pub(crate) fn new(log: &'a RunLog, observer: &'a dyn BackupObserver) -> Self {
        Self { log, observer, warnings: Vec::new(), errors: Vec::new() }
    }

    /// A problem the backup lives with: logged, shown, and one of the record's warnings.
    pub(crate) fn warn(&mut self, warning: String) {
        self.log.warn(&warning);
        self.observer.on_event(BackupEvent::Warning(warning.clone()));
        self.warnings.push(warning);
    }

    /// The same, unless this part already reported that warning.
    pub(crate) fn warn_once(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warn(warning);
        }
    }

    /// Something left out of the backup: logged as an error, shown, and one of the record's
    /// errors (which make the backup PartiallyFailed).
    pub(crate) fn error(&mut self, error: String) {
        self.log.error(&error);
        self.observer.on_event(BackupEvent::Warning(error.clone()));
        self.errors.push(error);
    }

    /// Moves what was kept so far into the record, after what it already has.
    pub(crate) fn record_into(&mut self, record: &mut BackupRecord) {
        record.warnings.append(&mut self.warnings);
        record.errors.append(&mut self.errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Events(Mutex<Vec<String>>);

    impl BackupObserver for Events {
        fn on_event(&self, event: BackupEvent) {
            if let BackupEvent::Warning(message) = event {
                self.0.lock().unwrap().push(message);
            }
        }
    }

    #[test]
    fn problems_are_logged_shown_and_kept_for_the_record_in_order() {
        let (log, events) = (RunLog::new(), Events::default());
        let mut reporter = RunReporter::new(&log, &events);
        reporter.warn("w1".into());
        reporter.warn_once("w1".into());
        reporter.error("e1".into());
        let spec = serde_json::from_value(serde_json::json!({"ttl": "1h", "storageLocation": "default"})).unwrap();
        let name = crate::model::ResourceName::parse("b").unwrap();
        let mut record = BackupRecord::new(name, spec, chrono::Utc::now(), "1.1.0");
        record.warnings.push("earlier".into());
        reporter.record_into(&mut record);
        reporter.warn("w2".into());
        reporter.record_into(&mut record);
        assert_eq!(record.warnings, ["earlier", "w1", "w2"]);
        assert_eq!(record.errors, ["e1"]);
        assert_eq!(*events.0.lock().unwrap(), ["w1", "e1", "w2"]);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(log.take_gz().as_slice()), &mut text).unwrap();
        assert!(text.contains("warn  w1") && text.contains("error e1"), "{text}");
    }
}
