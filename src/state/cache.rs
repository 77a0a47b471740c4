//! What the last sync found in a storage location: a summary of each backup and restore record,
//! enough to list them and to tell what changed since, without the bucket.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{BackupPhase, BackupRecord, RestorePhase, RestoreRecord};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationCache {
    pub(crate) synced: DateTime<Utc>,
    #[serde(default)]
    pub(crate) backups: BTreeMap<String, CachedBackup>,
    #[serde(default)]
    pub(crate) restores: BTreeMap<String, CachedRestore>,
}

/// A backup directory in the bucket, and what its record said or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum CachedBackup {
    Readable(BackupSummary),
    Unreadable { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BackupSummary {
    pub(crate) phase: BackupPhase,
    pub(crate) start_timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) completion_timestamp: Option<DateTime<Utc>>,
    pub(crate) expiration: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) schedule: Option<String>,
    #[serde(default)]
    pub(crate) errors: usize,
    #[serde(default)]
    pub(crate) warnings: usize,
}

impl From<&BackupRecord> for BackupSummary {
    fn from(record: &BackupRecord) -> Self {
        Self {
            phase: record.phase,
            start_timestamp: record.start_timestamp,
            completion_timestamp: record.completion_timestamp,
            expiration: record.expiration,
            schedule: record.spec.schedule.clone(),
            errors: record.errors.len(),
            warnings: record.warnings.len(),
        }
    }
}

impl CachedBackup {
    /// The phase as a word for reports: the record's phase, or `Unreadable`.
    pub(crate) fn phase_text(&self) -> String {
        match self {
            Self::Readable(summary) => summary.phase.to_string(),
            Self::Unreadable { .. } => "Unreadable".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CachedRestore {
    pub(crate) backup: String,
    pub(crate) phase: RestorePhase,
    pub(crate) start_timestamp: DateTime<Utc>,
}

impl From<&RestoreRecord> for CachedRestore {
    fn from(record: &RestoreRecord) -> Self {
        Self { backup: record.spec.backup.to_string(), phase: record.phase, start_timestamp: record.start_timestamp }
    }
}
