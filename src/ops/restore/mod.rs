//! Restoring a backup: read and check the whole archive first (into a local spool), then
//! create its objects tier by tier in priority order (CRDs, waited on until Established;
//! namespaces, waited on while Terminating; then storage, RBAC, config, workloads), each tier's
//! objects in parallel. Every object gets an outcome; a failed object never stops the others.
//! The record, written last, says how it went; the results list every object.
//!
//! `spool` holds the archive, `tiers` runs the tier loop, `rules` says what is restored and how
//! it is cleaned, and `results` keeps every object's outcome. New volumes for the restored PVs
//! are `ops::volumes`' job; waiting for namespaces and CRDs is `cluster`'s.

mod results;
mod rules;
mod spool;
mod tiers;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

pub(crate) use results::GzResults;
use results::ResultsWriter;
use spool::{Spool, SpoolError};
use tiers::Restorer;

use super::catalog::{self, CatalogError};
use super::describe;
use super::run_log::RunLog;
use super::volumes::VolumeRestore;
use crate::cluster::{ApiError, Connection, discover};
use crate::config::{SnapshotLocation, Tuning};
use crate::model::{
    BackupPhase, ItemOutcome, NameError, PatternError, ResourceName, RestorePhase, RestoreRecord, RestoreSpec,
};
use crate::store::{Bucket, BucketLayout, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreError {
    #[error("restore {name} already exists in storage location {location}; choose another name")]
    Exists { name: String, location: String },
    #[error(
        "backup {name} is {phase}, not Completed or PartiallyFailed; pass --allow-partial to restore what its archive holds"
    )]
    BackupIncomplete { name: String, phase: BackupPhase },
    #[error("invalid restore")]
    Pattern(#[source] PatternError),
    #[error("invalid restore: namespace mapping {old}:{new}")]
    Mapping { old: String, new: String, source: NameError },
    #[error(transparent)]
    Lookup(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("read backup {backup}")]
    Archive { backup: String, source: SpoolError },
    #[error("archive reader stopped")]
    ReaderStopped(#[source] tokio::task::JoinError),
    #[error("discover the server's resources")]
    Discovery(#[source] ApiError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error(
        "backup {backup} has volume snapshots in location {location:?}, which is not configured; add it with `ark config set-snapshot-location` or pass --restore-volumes=false"
    )]
    UnknownSnapshotLocation { backup: String, location: String },
    #[error(transparent)]
    Snapshots(#[from] crate::snapshot::SnapshotError),
}

impl RestoreError {
    pub(crate) fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::Exists { .. }
                | Self::BackupIncomplete { .. }
                | Self::Pattern(_)
                | Self::Mapping { .. }
                | Self::UnknownSnapshotLocation { .. }
        ) || matches!(self, Self::Lookup(CatalogError::BackupNotFound { .. }))
    }
}

/// Why a restore that had started ended Failed: its record's `failureReason`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreFailure {
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Spool(SpoolError),
    #[error("read restore spool")]
    ReadSpool(#[source] std::io::Error),
    #[error("stopped at the first failed object (--fail-fast): {0}")]
    FailFast(String),
    #[error("discover after CRDs")]
    Discovery(#[source] ApiError),
}

#[derive(Debug, Clone)]
pub(crate) enum RestoreEvent {
    ArchiveRead { items: u64, types: usize },
    Tier { resource: String, items: u64 },
    Item { outcome: ItemOutcome },
    Warning(String),
    Finishing,
}

pub(crate) trait RestoreObserver: Send + Sync {
    fn on_event(&self, event: RestoreEvent);
}

pub(crate) struct RestoreRequest {
    pub(crate) name: ResourceName,
    pub(crate) spec: RestoreSpec,
    /// Restore from a Failed or InProgress backup anyway.
    pub(crate) allow_partial: bool,
    /// How long to wait for a Terminating namespace to go, or a CRD to become Established.
    pub(crate) wait_timeout: Duration,
    /// Stop at the first object that fails instead of going on with the others.
    pub(crate) fail_fast: bool,
    /// The configured volume snapshot locations (the backup's snapshots name theirs).
    pub(crate) snapshot_locations: BTreeMap<ResourceName, SnapshotLocation>,
}

/// Restores a backup. Problems with the request or the archive come back as `Err` before the
/// cluster is touched; object failures end up in the results and the record's phase.
pub(crate) async fn create_restore(
    conn: &Connection,
    bucket: &Bucket,
    request: RestoreRequest,
    tuning: &Tuning,
    observer: &dyn RestoreObserver,
    cancel: CancellationToken,
    now: DateTime<Utc>,
) -> Result<(RestoreRecord, GzResults), RestoreError> {
    let RestoreRequest { name, spec, allow_partial, wait_timeout, fail_fast, snapshot_locations } = request;
    check(bucket, &name, &spec, allow_partial).await?;
    // Read and check the whole archive, and reach the snapshots' provider, before touching the cluster.
    let spool = spool_archive(bucket, &spec.backup).await?;
    let volumes = if spec.restore_volumes && !spec.dry_run {
        open_volumes(bucket, &spec.backup, &snapshot_locations).await?
    } else {
        VolumeRestore::default()
    };
    let catalog = discover(&conn.client).await.map_err(RestoreError::Discovery)?;
    let total: u64 = spool.types().map(|(_, n)| n).sum();
    observer.on_event(RestoreEvent::ArchiveRead { items: total, types: spool.types().count() });

    let log = RunLog::new();
    let mut record = RestoreRecord::new(name.clone(), spec.clone(), now);
    record.server = conn.server.clone();
    log.info(&format!("restoring {total} objects of backup {} into {}", spec.backup, conn.server));
    // A dry run leaves no trace; a read-only location (another cluster's backups) is never
    // written, so such a restore keeps its record, log and results to itself.
    let persist = !spec.dry_run && !bucket.read_only;
    if persist {
        bucket.put_json(&BucketLayout::restore_record(&name), &record).await?;
    } else if !spec.dry_run {
        let warning = format!("storage location {} is read-only: this restore's record is not stored", bucket.name);
        log.warn(&warning);
        observer.on_event(RestoreEvent::Warning(warning));
    }

    let mut results = ResultsWriter::new();
    let restorer = Restorer {
        conn,
        spec: &spec,
        tuning,
        observer,
        log: &log,
        restore: name.as_str(),
        wait_timeout,
        fail_fast,
        volumes,
    };
    let outcome = tokio::select! {
        outcome = restorer.restore_all(&spool, catalog, &mut results) => outcome,
        () = cancel.cancelled() => Err(RestoreFailure::Interrupted),
    };
    finish(bucket, &log, observer, record, results, outcome, persist).await
}

/// Refuses a restore that cannot go ahead, before the archive is read: a name in use, a backup
/// that is missing or unfinished, namespace patterns or mappings that cannot be used.
async fn check(
    bucket: &Bucket,
    name: &ResourceName,
    spec: &RestoreSpec,
    allow_partial: bool,
) -> Result<(), RestoreError> {
    match bucket.get(&BucketLayout::restore_record(name)).await {
        Ok(_) => return Err(RestoreError::Exists { name: name.to_string(), location: bucket.name.to_string() }),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    let backup = catalog::get_backup(bucket, &spec.backup).await?;
    if !allow_partial && !matches!(backup.phase, BackupPhase::Completed | BackupPhase::PartiallyFailed) {
        return Err(RestoreError::BackupIncomplete { name: spec.backup.to_string(), phase: backup.phase });
    }
    spec.scope.validate().map_err(RestoreError::Pattern)?;
    for (old, new) in &spec.namespace_mappings {
        let mapping = |source| RestoreError::Mapping { old: old.clone(), new: new.clone(), source };
        ResourceName::parse(new).map_err(mapping)?;
    }
    Ok(())
}

/// Reads the whole archive into a local spool, checking every entry.
async fn spool_archive(bucket: &Bucket, backup: &ResourceName) -> Result<Spool, RestoreError> {
    let download = bucket.get_stream(&BucketLayout::archive(backup)).await?;
    let reader = tokio_util::io::SyncIoBridge::new(download.into_async_read());
    let backup_name = backup.to_string();
    tokio::task::spawn_blocking(move || Spool::fill(reader))
        .await
        .map_err(RestoreError::ReaderStopped)?
        .map_err(|source| RestoreError::Archive { backup: backup_name, source })
}

/// The backup's completed volume snapshots, their locations opened and checked.
async fn open_volumes(
    bucket: &Bucket,
    backup: &ResourceName,
    configured: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<VolumeRestore, RestoreError> {
    let snapshots = catalog::volume_snapshots(bucket, backup).await?;
    VolumeRestore::open(snapshots, configured).await.map_err(|e| match e {
        Ok(location) => RestoreError::UnknownSnapshotLocation { backup: backup.to_string(), location },
        Err(e) => e.into(),
    })
}

/// Ends the restore: its phase from how it went, then (unless it leaves no trace) the log, the
/// results and, last, the record.
async fn finish(
    bucket: &Bucket,
    log: &RunLog,
    observer: &dyn RestoreObserver,
    mut record: RestoreRecord,
    results: ResultsWriter,
    outcome: Result<(), RestoreFailure>,
    persist: bool,
) -> Result<(RestoreRecord, GzResults), RestoreError> {
    // Item failures and the problems around them (a namespace that stayed Terminating, a CRD
    // that never became Established).
    record.counts = results.counts.clone();
    record.errors = results.errors.values().flatten().cloned().collect();
    record.warnings = results.warnings.values().flatten().cloned().collect();
    record.phase = match outcome {
        Err(failure) => {
            let reason = describe(&failure);
            log.error(&format!("restore failed: {reason}"));
            record.failure_reason = Some(reason);
            RestorePhase::Failed
        }
        Ok(()) if record.errors.is_empty() => RestorePhase::Completed,
        Ok(()) => RestorePhase::PartiallyFailed,
    };
    record.completion_timestamp = Some(Utc::now());
    log.info(&format!("restore {} {}", record.name, record.phase));
    observer.on_event(RestoreEvent::Finishing);
    let results = results.finish();
    if persist {
        bucket.put(&BucketLayout::restore_log(&record.name), log.take_gz().into()).await?;
        bucket.put(&BucketLayout::restore_results(&record.name), results.0.clone()).await?;
        bucket.put_json(&BucketLayout::restore_record(&record.name), &record).await?;
    }
    Ok((record, results))
}
