//! Volume snapshots as a backup records them (`<name>-volumesnapshots.json.gz`): enough to
//! create an equal volume again at restore and to delete the snapshot when the backup goes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SnapshotPhase {
    Completed,
    Failed,
}

/// One persistent volume's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VolumeSnapshot {
    /// The PersistentVolume the volume backs.
    pub(crate) persistent_volume: String,
    /// `aws`.
    pub(crate) provider: String,
    /// The volume snapshot location (config name) the snapshot was taken through.
    pub(crate) location: String,
    pub(crate) volume_id: String,
    pub(crate) availability_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) volume_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iops: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) throughput: Option<i32>,
    #[serde(default)]
    pub(crate) encrypted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size_gib: Option<i32>,
    /// Empty when creating the snapshot failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) snapshot_id: String,
    pub(crate) phase: SnapshotPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// A persistent volume in a backup that was not snapshotted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VolumeNotSnapshotted {
    pub(crate) persistent_volume: String,
    pub(crate) reason: String,
}
