//! The log of one backup or restore run, uploaded beside it (`<name>-logs.gz`) so that anyone
//! with the bucket can read what happened. Lines also go to tracing for `-v`.

use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct RunLog {
    text: Mutex<String>,
}

impl RunLog {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn line(&self, level: &str, message: &str) {
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        if let Ok(mut text) = self.text.lock() {
            text.push_str(&format!("{stamp} {level:<5} {message}\n"));
        }
    }

    pub(crate) fn info(&self, message: &str) {
        tracing::info!("{message}");
        self.line("info", message);
    }

    pub(crate) fn warn(&self, message: &str) {
        tracing::info!("warning: {message}");
        self.line("warn", message);
    }

    pub(crate) fn error(&self, message: &str) {
        tracing::info!("error: {message}");
        self.line("error", message);
    }

    pub(crate) fn text(&self) -> String {
        self.text.lock().map(|t| t.clone()).unwrap_or_default()
    }
}
