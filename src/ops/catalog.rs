//! What a storage location holds: its backup and restore records, read, listed and removed,
//! with what belongs to each (a backup's log, resource list, archive and volume snapshots; a
//! restore's log and results). The bucket is the source of truth; nothing here touches the
//! cluster, and removing a restore never touches the objects it restored.

use std::collections::BTreeMap;
use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;

use super::volumes;
use crate::config::SnapshotLocation;
use crate::model::{BackupPhase, BackupRecord, ResourceName, RestoreRecord, RestoreResults, VolumeSnapshot};
use crate::store::{Bucket, BucketLayout, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum CatalogError {
    #[error("backup {name} not found in storage location {location} (see `ark backup get`)")]
    BackupNotFound { name: String, location: String },
    #[error("restore {name} not found in storage location {location} (see `ark restore get`)")]
    RestoreNotFound { name: String, location: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path} already exists; pass --force to overwrite it")]
    FileExists { path: String },
    #[error("write {path}")]
    File { path: String, source: std::io::Error },
    #[error("delete the backup's volume snapshots (the backup is kept, in phase Deleting; run the delete again)")]
    Snapshots(#[from] crate::snapshot::SnapshotError),
}

impl CatalogError {
    /// Errors in what the user asked for (a file that must not be overwritten), as opposed to
    /// failures while doing it. A record that is not there is a failure of the lookup.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::FileExists { .. })
    }
}

/// A backup directory in the bucket and what its record says, or why it could not be read.
pub(crate) struct Listed {
    pub(crate) name: String,
    pub(crate) record: Result<BackupRecord, String>,
}

/// Every backup in the location, newest first; unreadable records are listed with their error.
pub(crate) async fn list_backups(bucket: &Bucket) -> Result<Vec<Listed>, StoreError> {
    let names = bucket.list_dirs(&object_store::path::Path::from(BucketLayout::BACKUPS)).await?;
    let mut listed: Vec<Listed> = futures::stream::iter(names)
        .map(|name| async move {
            let record = match ResourceName::parse(&name) {
                Ok(parsed) => bucket
                    .get_json::<BackupRecord>(&BucketLayout::backup_record(&parsed))
                    .await
                    .map_err(|e| if e.is_not_found() { "no ark-backup.json record".to_owned() } else { e.to_string() }),
                Err(e) => Err(e.to_string()),
            };
            Listed { name, record }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    listed.sort_by(|a, b| {
        let start = |l: &Listed| l.record.as_ref().ok().map(|r| r.start_timestamp);
        start(b).cmp(&start(a)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(listed)
}

pub(crate) async fn get_backup(bucket: &Bucket, name: &ResourceName) -> Result<BackupRecord, CatalogError> {
    bucket.get_json(&BucketLayout::backup_record(name)).await.map_err(|e| backup_not_found(e, bucket, name))
}

fn backup_not_found(e: StoreError, bucket: &Bucket, name: &ResourceName) -> CatalogError {
    if e.is_not_found() {
        CatalogError::BackupNotFound { name: name.to_string(), location: bucket.name.to_string() }
    } else {
        e.into()
    }
}

pub(crate) async fn backup_log(bucket: &Bucket, name: &ResourceName) -> Result<String, CatalogError> {
    get_backup(bucket, name).await?;
    let bytes = bucket.get_gz(&BucketLayout::backup_log(name)).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) async fn resource_list(
    bucket: &Bucket,
    name: &ResourceName,
) -> Result<BTreeMap<String, Vec<String>>, CatalogError> {
    bucket.get_gz_json(&BucketLayout::resource_list(name)).await.map_err(|e| backup_not_found(e, bucket, name))
}

/// Streams the archive into `path` (through a temporary file beside it, renamed when complete).
pub(crate) async fn download_archive(
    bucket: &Bucket,
    name: &ResourceName,
    path: &Path,
    force: bool,
    mut on_bytes: impl FnMut(u64, Option<u64>),
) -> Result<u64, CatalogError> {
    get_backup(bucket, name).await?;
    let display = path.display().to_string();
    if path.exists() && !force {
        return Err(CatalogError::FileExists { path: display });
    }
    let mut download = bucket.get_stream(&BucketLayout::archive(name)).await?;
    let tmp =
        path.with_file_name(format!(".{}.part", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let file_err = |source| CatalogError::File { path: display.clone(), source };
    let mut file = tokio::fs::File::create(&tmp).await.map_err(file_err)?;
    let mut written = 0u64;
    let copied: Result<(), CatalogError> = async {
        while let Some(chunk) = download.chunks.try_next().await? {
            file.write_all(&chunk).await.map_err(file_err)?;
            written += chunk.len() as u64;
            on_bytes(written, Some(download.size));
        }
        file.sync_all().await.map_err(file_err)?;
        tokio::fs::rename(&tmp, path).await.map_err(file_err)
    }
    .await;
    if copied.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    copied.map(|()| written)
}

/// Deletes a backup: its volume snapshots first, then its objects. The record goes to phase
/// Deleting first and is removed last, so an interrupted delete never leaves a backup that looks
/// whole, and a delete that could not remove the snapshots can be run again.
pub(crate) async fn delete_backup(
    bucket: &Bucket,
    name: &ResourceName,
    snapshot_locations: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<DeletedBackup, CatalogError> {
    let mut record = get_backup(bucket, name).await?;
    let record_key = BucketLayout::backup_record(name);
    record.phase = BackupPhase::Deleting;
    bucket.put_json(&record_key, &record).await?;
    let snapshots = volume_snapshots(bucket, name).await?;
    let snapshots = volumes::delete_snapshots(&snapshots, snapshot_locations).await?;
    let objects = delete_record_last(bucket, &BucketLayout::backup_dir(name), &record_key).await?;
    Ok(DeletedBackup { objects, snapshots })
}

pub(crate) struct DeletedBackup {
    pub(crate) objects: usize,
    pub(crate) snapshots: usize,
}

/// The volume snapshots a backup took (none for a backup without the file).
pub(crate) async fn volume_snapshots(
    bucket: &Bucket,
    name: &ResourceName,
) -> Result<Vec<VolumeSnapshot>, CatalogError> {
    match bucket.get_gz_json(&BucketLayout::volume_snapshots(name)).await {
        Ok(snapshots) => Ok(snapshots),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Every readable restore record, newest first.
pub(crate) async fn list_restores(bucket: &Bucket) -> Result<Vec<RestoreRecord>, StoreError> {
    let names = bucket.list_dirs(&object_store::path::Path::from(BucketLayout::RESTORES)).await?;
    let mut records: Vec<RestoreRecord> = futures::stream::iter(names)
        .filter_map(|name| async move {
            let name = ResourceName::parse(&name).ok()?;
            bucket.get_json::<RestoreRecord>(&BucketLayout::restore_record(&name)).await.ok()
        })
        .collect()
        .await;
    records.sort_by_key(|r| std::cmp::Reverse(r.start_timestamp));
    Ok(records)
}

pub(crate) async fn get_restore(
    bucket: &Bucket,
    name: &ResourceName,
) -> Result<(RestoreRecord, RestoreResults), CatalogError> {
    let record: RestoreRecord = bucket.get_json(&BucketLayout::restore_record(name)).await.map_err(|e| match e {
        e if e.is_not_found() => {
            CatalogError::RestoreNotFound { name: name.to_string(), location: bucket.name.to_string() }
        }
        e => e.into(),
    })?;
    let results = match bucket.get_gz_json(&BucketLayout::restore_results(name)).await {
        Ok(results) => results,
        Err(e) if e.is_not_found() => RestoreResults::default(),
        Err(e) => return Err(e.into()),
    };
    Ok((record, results))
}

pub(crate) async fn restore_log(bucket: &Bucket, name: &ResourceName) -> Result<String, CatalogError> {
    get_restore(bucket, name).await?;
    Ok(String::from_utf8_lossy(&bucket.get_gz(&BucketLayout::restore_log(name)).await?).into_owned())
}

/// Deletes a restore's objects in the bucket, its record last.
pub(crate) async fn delete_restore(bucket: &Bucket, name: &ResourceName) -> Result<(), CatalogError> {
    get_restore(bucket, name).await?;
    delete_record_last(bucket, &BucketLayout::restore_dir(name), &BucketLayout::restore_record(name)).await?;
    Ok(())
}

/// Deletes every object under `dir`, `record` last, so that an interrupted delete leaves the
/// record to find it by; returns how many objects went.
async fn delete_record_last(
    bucket: &Bucket,
    dir: &object_store::path::Path,
    record: &object_store::path::Path,
) -> Result<usize, StoreError> {
    let mut deleted = 0;
    for key in bucket.list_keys(dir).await?.iter().filter(|k| *k != record) {
        bucket.delete(key).await?;
        deleted += 1;
    }
    bucket.delete(record).await?;
    Ok(deleted + 1)
}
