//! The log of one backup or restore run, uploaded beside it (`<name>-logs.gz`) so that anyone
//! with the bucket can read what happened. Lines also go to tracing for `-v`. The text is
//! gzipped as it is written: a line per object costs a few bytes of memory, not a hundred.

use std::io::Write;
use std::sync::Mutex;

use flate2::Compression;
use flate2::write::GzEncoder;

pub(crate) struct RunLog {
    gz: Mutex<GzEncoder<Vec<u8>>>,
}

impl Default for RunLog {
    fn default() -> Self {
        Self { gz: Mutex::new(GzEncoder::new(Vec::new(), Compression::fast())) }
    }
}

impl RunLog {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn line(&self, level: &str, message: &str) {
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        if let Ok(mut gz) = self.gz.lock() {
            // Writing into memory only fails when memory does.
            let _ = writeln!(gz, "{stamp} {level:<5} {message}");
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

    /// The log so far, gzipped (a complete gzip stream; later lines start a new log).
    pub(crate) fn take_gz(&self) -> Vec<u8> {
        let Ok(mut gz) = self.gz.lock() else { return Vec::new() };
        let done = std::mem::replace(&mut *gz, GzEncoder::new(Vec::new(), Compression::fast()));
        done.finish().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn lines_come_back_gunzipped_in_order() {
        let log = RunLog::new();
        log.info("first");
        log.error("second");
        let mut text = String::new();
        flate2::read::GzDecoder::new(log.take_gz().as_slice()).read_to_string(&mut text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with(" info  first"), "{}", lines[0]);
        assert!(lines[1].ends_with(" error second"), "{}", lines[1]);
    }
}
