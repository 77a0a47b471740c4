//! Volume snapshots through a cloud provider's API, with no plugin process: what a persistent
//! volume's disk is (`pv`), and the provider that snapshots it and makes volumes from snapshots
//! again (`aws`, EBS through aws-sdk-ec2). Knows nothing of backups, buckets or the CLI.

mod aws;
mod pv;

use std::collections::BTreeMap;

pub(crate) use aws::AwsSnapshotter;
pub(crate) use pv::{DiskRef, disk_of, point_at_volume};

use crate::config::{SnapshotLocation, SnapshotProvider};
use crate::model::VolumeSnapshot;

#[derive(Debug, thiserror::Error)]
#[error("{op}: {message}")]
pub(crate) struct SnapshotError {
    pub(crate) op: String,
    pub(crate) message: String,
    /// The provider says the thing asked about does not exist.
    pub(crate) not_found: bool,
}

/// A provider's volume as found before snapshotting it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceVolume {
    pub(crate) id: String,
    pub(crate) availability_zone: String,
    pub(crate) volume_type: Option<String>,
    pub(crate) iops: Option<i32>,
    pub(crate) throughput: Option<i32>,
    pub(crate) encrypted: bool,
    pub(crate) kms_key_id: Option<String>,
    pub(crate) size_gib: Option<i32>,
    pub(crate) tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SnapshotState {
    Pending,
    Completed,
    Failed(String),
}

#[async_trait::async_trait]
pub(crate) trait VolumeSnapshotter: Send + Sync {
    /// Checks region, endpoint and credentials with a harmless call.
    async fn check(&self) -> Result<(), SnapshotError>;
    async fn describe_volume(&self, volume_id: &str) -> Result<SourceVolume, SnapshotError>;
    /// Starts a snapshot of the volume, tagged; returns its id.
    async fn create_snapshot(
        &self,
        volume: &SourceVolume,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, SnapshotError>;
    /// The state of each snapshot asked about (missing ones are Failed).
    async fn snapshot_states(&self, ids: &[String]) -> Result<BTreeMap<String, SnapshotState>, SnapshotError>;
    /// Creates a volume from a snapshot in the zone, like the one snapshotted; returns its id.
    async fn create_volume(
        &self,
        snapshot: &VolumeSnapshot,
        zone: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, SnapshotError>;
    /// Whether the volume is ready to attach; an error when it failed.
    async fn volume_available(&self, volume_id: &str) -> Result<bool, SnapshotError>;
    /// Deletes a snapshot; one already gone is not an error.
    async fn delete_snapshot(&self, snapshot_id: &str) -> Result<(), SnapshotError>;
}

/// The snapshotter for a configured volume snapshot location.
pub(crate) async fn open(location: &SnapshotLocation) -> Box<dyn VolumeSnapshotter> {
    match location.provider {
        SnapshotProvider::Aws => Box::new(AwsSnapshotter::new(location).await),
    }
}
