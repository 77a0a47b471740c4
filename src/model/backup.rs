//! The backup record (`ark-backup.json`): everything needed to list, describe, restore or
//! expire a backup, stored beside its archive. The bucket is the source of truth, so this is
//! what every other machine knows of the backup.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::hooks::{HookResult, PodHookSpec};
use super::{HumanDuration, ResourceName, Scope, VolumeNotSnapshotted};

pub(crate) const RECORD_API_VERSION: &str = "ark.heptio.com/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum BackupPhase {
    /// Being written now, or the process writing it died (then `failureReason` stays empty
    /// and the record never becomes Completed).
    InProgress,
    Completed,
    /// Finished, but some types or items could not be backed up: see `errors`.
    PartiallyFailed,
    Failed,
    Deleting,
}

impl std::fmt::Display for BackupPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BackupSpec {
    #[serde(flatten)]
    pub(crate) scope: Scope,
    pub(crate) ttl: HumanDuration,
    pub(crate) storage_location: String,
    #[serde(default)]
    pub(crate) snapshot_volumes: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) volume_snapshot_location: Option<String>,
    /// The schedule that made this backup, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) schedule: Option<String>,
    /// Hooks for pods chosen by namespace and labels (`--hooks FILE`), besides those pods
    /// declare in their annotations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) hooks: Vec<PodHookSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BackupRecord {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) name: ResourceName,
    pub(crate) phase: BackupPhase,
    pub(crate) spec: BackupSpec,
    pub(crate) start_timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) completion_timestamp: Option<DateTime<Utc>>,
    pub(crate) expiration: DateTime<Utc>,
    /// The apiserver the backup was taken from, and its version.
    #[serde(default)]
    pub(crate) server: String,
    #[serde(default)]
    pub(crate) server_version: String,
    /// The etcd revision every type was listed at (except those in `notAtRevision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revision: Option<String>,
    /// Types listed as they were when reached, with why the revision could not be used.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) not_at_revision: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) items_backed_up: u64,
    /// group-resource -> number of objects.
    #[serde(default)]
    pub(crate) resource_counts: BTreeMap<String, u64>,
    /// Objects left out by the `ark.heptio.com/exclude-from-backup=true` label.
    #[serde(default)]
    pub(crate) items_excluded_by_label: u64,
    #[serde(default)]
    pub(crate) archive_bytes: u64,
    /// Volume snapshots tried and those that completed (details in the volume snapshots file).
    #[serde(default)]
    pub(crate) volume_snapshots_attempted: u64,
    #[serde(default)]
    pub(crate) volume_snapshots_completed: u64,
    /// Persistent volumes in the backup whose data is not in it, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) volumes_not_snapshotted: Vec<VolumeNotSnapshotted>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_reason: Option<String>,
    /// Every hook run, pre hooks first, in the order each pod ran them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) hooks: Vec<HookResult>,
    pub(crate) ark_version: String,
    pub(crate) format_version: String,
}

impl BackupRecord {
    /// A new record, InProgress, of a backup whose archive is in format `format_version`.
    pub(crate) fn new(name: ResourceName, spec: BackupSpec, now: DateTime<Utc>, format_version: &str) -> Self {
        let ttl = chrono::Duration::from_std(spec.ttl.0).unwrap_or(chrono::Duration::MAX);
        Self {
            api_version: RECORD_API_VERSION.to_owned(),
            kind: "Backup".to_owned(),
            name,
            phase: BackupPhase::InProgress,
            spec,
            start_timestamp: now,
            completion_timestamp: None,
            expiration: now.checked_add_signed(ttl).unwrap_or(DateTime::<Utc>::MAX_UTC),
            server: String::new(),
            server_version: String::new(),
            revision: None,
            not_at_revision: BTreeMap::new(),
            items_backed_up: 0,
            resource_counts: BTreeMap::new(),
            items_excluded_by_label: 0,
            archive_bytes: 0,
            volume_snapshots_attempted: 0,
            volume_snapshots_completed: 0,
            volumes_not_snapshotted: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
            failure_reason: None,
            hooks: Vec::new(),
            ark_version: env!("CARGO_PKG_VERSION").to_owned(),
            format_version: format_version.to_owned(),
        }
    }
}
