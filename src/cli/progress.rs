//! Showing long operations on stderr: an animated line on a terminal, one plain line per stage
//! otherwise, nothing but warnings with `-o json|yaml` (whose stdout a program is reading).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::model::ItemOutcome;
use crate::ops::backup::{BackupEvent, BackupObserver};
use crate::ops::restore::{RestoreEvent, RestoreObserver};

use super::output::{OutputFormat, human_bytes};

pub(crate) enum Reporter {
    Bar(ProgressBar),
    Lines,
    Quiet,
}

impl Reporter {
    pub(crate) fn new(output: OutputFormat) -> Self {
        if output != OutputFormat::Table {
            Self::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            Self::Bar(bar)
        } else {
            Self::Lines
        }
    }

    /// A stage worth a line of its own.
    pub(crate) fn stage(&self, message: &str) {
        match self {
            Self::Bar(bar) => bar.set_message(message.to_owned()),
            Self::Lines => eprintln!("{message}"),
            Self::Quiet => {}
        }
    }

    /// Frequent updates: shown on a terminal only.
    pub(crate) fn update(&self, message: String) {
        if let Self::Bar(bar) = self {
            bar.set_message(message);
        }
    }

    pub(crate) fn warn(&self, message: &str) {
        match self {
            Self::Bar(bar) => bar.suspend(|| eprintln!("warning: {message}")),
            Self::Lines | Self::Quiet => eprintln!("warning: {message}"),
        }
    }

    pub(crate) fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

pub(crate) struct BackupReporter {
    pub(crate) reporter: Reporter,
    name: String,
    types: std::sync::atomic::AtomicUsize,
    listed: std::sync::atomic::AtomicUsize,
}

impl BackupReporter {
    pub(crate) fn new(output: OutputFormat, name: &str) -> Self {
        Self {
            reporter: Reporter::new(output),
            name: name.to_owned(),
            types: Default::default(),
            listed: Default::default(),
        }
    }
}

impl BackupObserver for BackupReporter {
    fn on_event(&self, event: BackupEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        match event {
            BackupEvent::Started { types, namespaces, revision } => {
                self.types.store(types, Relaxed);
                self.reporter.stage(&format!(
                    "backup {}: listing {types} resource types in {namespaces} namespaces at revision {revision}",
                    self.name
                ));
            }
            BackupEvent::TypeListed { group_resource, items } => {
                let listed = self.listed.fetch_add(1, Relaxed) + 1;
                self.reporter.update(format!(
                    "backup {}: {listed}/{} types, last {group_resource} ({items})",
                    self.name,
                    self.types.load(Relaxed)
                ));
            }
            BackupEvent::Progress { items, bytes } => {
                let size = if bytes > 0 { format!(", {}", human_bytes(bytes)) } else { String::new() };
                self.reporter.update(format!(
                    "backup {}: {}/{} types, {items} items{size}",
                    self.name,
                    self.listed.load(Relaxed),
                    self.types.load(Relaxed)
                ));
            }
            BackupEvent::Snapshots { completed, total } => {
                let message = format!("backup {}: {completed}/{total} volume snapshots completed", self.name);
                if completed == 0 || completed == total {
                    self.reporter.stage(&message);
                } else {
                    self.reporter.update(message);
                }
            }
            BackupEvent::Finishing => self.reporter.stage(&format!("backup {}: writing metadata", self.name)),
            BackupEvent::Warning(message) => self.reporter.warn(&message),
            BackupEvent::Hook(hook) if hook.succeeded() => self.reporter.stage(&format!(
                "backup {}: {}: {} in {}",
                self.name,
                hook.hook_name(),
                hook.outcome(),
                hook.duration
            )),
            BackupEvent::Hook(hook) => {
                self.reporter.warn(&format!("{}: {} (onError: {})", hook.hook_name(), hook.outcome(), hook.on_error));
            }
        }
    }
}

pub(crate) struct RestoreReporter {
    pub(crate) reporter: Reporter,
    name: String,
    total: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
    failed: std::sync::atomic::AtomicU64,
}

impl RestoreReporter {
    pub(crate) fn new(output: OutputFormat, name: &str) -> Self {
        Self {
            reporter: Reporter::new(output),
            name: name.to_owned(),
            total: Default::default(),
            done: Default::default(),
            failed: Default::default(),
        }
    }
}

impl RestoreObserver for RestoreReporter {
    fn on_event(&self, event: RestoreEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        match event {
            RestoreEvent::ArchiveRead { items, types } => {
                self.total.store(items, Relaxed);
                self.reporter.stage(&format!("restore {}: archive read, {items} objects of {types} types", self.name));
            }
            RestoreEvent::Tier { resource, items } => {
                self.reporter.stage(&format!("restore {}: {resource} ({items})", self.name));
            }
            RestoreEvent::Item { outcome } => {
                let done = self.done.fetch_add(1, Relaxed) + 1;
                if outcome == ItemOutcome::Failed {
                    self.failed.fetch_add(1, Relaxed);
                }
                self.reporter.update(format!(
                    "restore {}: {done}/{} objects, {} failed",
                    self.name,
                    self.total.load(Relaxed),
                    self.failed.load(Relaxed)
                ));
            }
            RestoreEvent::Finishing => self.reporter.stage(&format!("restore {}: writing results", self.name)),
            RestoreEvent::Warning(message) => self.reporter.warn(&message),
        }
    }
}
