//! Taking a backup: plan it (discover what the server serves, decide what is in scope, open the
//! snapshot location), run the pods' pre hooks, list every type at one etcd revision and stream
//! the objects through tar.gz into a multipart upload, snapshot the volumes, run the post hooks,
//! then write the log, the resource list and, last, the record that makes the backup visible as
//! done.
//!
//! Memory stays bounded: pages flow from the listers through a bounded channel to one archive
//! writer thread, whose output flows through another bounded channel into the upload. What
//! grows with the number of objects is only the resource list (one short name per object).
//!
//! `scope` chooses the types and namespaces, `listing` lists them, `pipeline` writes and uploads
//! the archive, `hooks` runs the pods' hooks, and `events` is how all of them report.

mod events;
mod hooks;
mod listing;
mod pipeline;
mod scope;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use events::RunReporter;
pub(crate) use events::{BackupEvent, BackupObserver};
use hooks::HookRun;
use listing::{Lister, list_namespaces};
use pipeline::{ArchivePipeline, ProgressTicker};
use scope::{TypeSelection, scoped_namespaces, select_types};

use super::describe;
use super::run_log::RunLog;
use super::volumes::{self, Snapshots, VolumeReport};
use crate::archive::{FORMAT_VERSION, ResourceList};
use crate::cluster::{ApiError, Connection, ResourceCatalog, discover};
use crate::config::{SnapshotLocation, Tuning};
use crate::model::{BackupPhase, BackupRecord, BackupSpec, HookPhase, PatternError, ResourceName, SnapshotPhase};
use crate::store::{Bucket, BucketLayout, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupError {
    #[error("backup {name} already exists in storage location {location}; choose another name or delete it first")]
    Exists { name: String, location: String },
    #[error("invalid filter")]
    Pattern(#[source] PatternError),
    #[error("invalid filter: the server has no resource type {0:?} (see `kubectl api-resources`)")]
    UnknownResource(String),
    #[error("discover the server's resources")]
    Discovery(#[source] ApiError),
    #[error("list namespaces")]
    Namespaces(#[source] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("volume snapshot location {0:?} is not configured; add it with `ark config set-snapshot-location`")]
    UnknownSnapshotLocation(String),
    #[error(transparent)]
    Snapshots(#[from] crate::snapshot::SnapshotError),
    #[error("interrupted before anything was written")]
    Interrupted,
}

impl BackupError {
    /// Errors in what the user asked for, as opposed to failures while doing it.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::Exists { .. } | Self::Pattern(_) | Self::UnknownResource(_) | Self::UnknownSnapshotLocation(_)
        )
    }
}

/// Why a backup that had started ended Failed: its record's `failureReason`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupFailure {
    #[error("interrupted")]
    Interrupted,
    #[error("decode namespace")]
    DecodeNamespace(#[source] serde_json::Error),
    #[error("write archive")]
    WriteArchive(#[source] std::io::Error),
    #[error("archive writer stopped")]
    WriterStopped(#[source] tokio::task::JoinError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) struct BackupRequest {
    pub(crate) name: ResourceName,
    pub(crate) spec: BackupSpec,
    /// The configured volume snapshot locations; the spec names the one to use.
    pub(crate) snapshot_locations: BTreeMap<ResourceName, SnapshotLocation>,
}

/// Takes a backup. Errors in the request (bad filters, a name in use) come back as `Err`
/// before anything is written; failures after the backup started end in a record with phase
/// Failed or PartiallyFailed, which is returned.
pub(crate) async fn create_backup(
    conn: &Connection,
    bucket: &Bucket,
    request: BackupRequest,
    tuning: &Tuning,
    observer: &dyn BackupObserver,
    cancel: CancellationToken,
    now: DateTime<Utc>,
) -> Result<BackupRecord, BackupError> {
    let BackupRequest { name, spec, snapshot_locations } = request;
    spec.scope.validate().map_err(BackupError::Pattern)?;
    bucket.ensure_writable(&BucketLayout::backup_record(&name))?;
    // Nothing is written and no hook has run yet: an interruption just stops.
    let plan = tokio::select! {
        plan = plan(conn, bucket, &name, &spec, &snapshot_locations) => plan?,
        () = cancel.cancelled() => return Err(BackupError::Interrupted),
    };
    let log = RunLog::new();
    // Pre hooks (a database told to flush to disk) run before the namespace list fixes the
    // revision, so every object is listed as it is after them.
    let reporter = RunReporter::new(&log, observer);
    let mut hooks = HookRun::prepare(conn, &spec, plan.selection.pods(), tuning, reporter).await;
    let pre_hook_failed = hooks.run(HookPhase::Pre).await;
    // A cluster that will not even list namespaces fails the backup before anything is written
    // (but its post hooks).
    let started = async {
        let namespaces = list_namespaces(conn, tuning).await?;
        let mut record = BackupRecord::new(name.clone(), spec.clone(), now, FORMAT_VERSION);
        record.server = conn.server.clone();
        record.server_version = plan.server_version.clone();
        let mut reporter = RunReporter::new(&log, observer);
        for (group_version, problem) in &plan.catalog.failed_groups {
            reporter
                .error(format!("API group {group_version} could not be discovered and is not backed up: {problem}"));
        }
        reporter.record_into(&mut record);
        bucket.put_json(&BucketLayout::backup_record(&name), &record).await?;
        Ok::<_, BackupError>((namespaces, record))
    };
    let (namespaces, mut record) = match started.await {
        Ok(started) => started,
        Err(e) => {
            hooks.run(HookPhase::Post).await;
            return Err(e);
        }
    };
    let outcome = if pre_hook_failed {
        log.error("a pre hook failed: nothing is backed up");
        Ok(())
    } else {
        let ctx = BackupContext { conn, bucket, spec: &spec, tuning, plan: &plan, log: &log, observer };
        tokio::select! {
            outcome = write_backup(&ctx, namespaces, &mut record) => outcome,
            () = cancel.cancelled() => Err(BackupFailure::Interrupted),
        }
    };
    hooks.run(HookPhase::Post).await;
    let hook_failure = hooks.finish(&mut record);
    let failure = match (outcome, hook_failure) {
        (Ok(()), hooks) => hooks,
        (Err(e), None) => Some(describe(&e)),
        (Err(e), Some(hooks)) => Some(format!("{}; {hooks}", describe(&e))),
    };
    finish(bucket, &log, observer, record, failure).await
}

/// What a backup will do, found before anything is written or any hook runs.
struct Plan {
    server_version: String,
    /// What the server serves (and which API groups it could not say).
    catalog: ResourceCatalog,
    selection: TypeSelection,
    snapshots: Option<Snapshots>,
}

/// Checks the name is free, and asks the server and the snapshot location what it needs, at
/// once.
async fn plan(
    conn: &Connection,
    bucket: &Bucket,
    name: &ResourceName,
    spec: &BackupSpec,
    snapshot_locations: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<Plan, BackupError> {
    let name_is_free = async {
        match bucket.get(&BucketLayout::backup_record(name)).await {
            Ok(_) => Err(BackupError::Exists { name: name.to_string(), location: bucket.name.to_string() }),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    };
    let ((), version, catalog, snapshots) = tokio::try_join!(
        name_is_free,
        async { Ok(conn.server_version().await?) },
        async { discover(&conn.client).await.map_err(BackupError::Discovery) },
        open_snapshots(spec, snapshot_locations),
    )?;
    let selection = select_types(&catalog, &spec.scope)?;
    Ok(Plan { server_version: version.git_version, catalog, selection, snapshots })
}

/// The volume snapshot location the backup takes its snapshots through, opened and checked
/// before anything is written.
async fn open_snapshots(
    spec: &BackupSpec,
    locations: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<Option<Snapshots>, BackupError> {
    let (true, Some(location)) = (spec.snapshot_volumes, &spec.volume_snapshot_location) else { return Ok(None) };
    let unknown = || BackupError::UnknownSnapshotLocation(location.clone());
    Ok(Some(Snapshots::open_configured(location, locations).await.ok_or_else(unknown)??))
}

/// Everything writing one backup shares.
struct BackupContext<'a> {
    conn: &'a Connection,
    bucket: &'a Bucket,
    spec: &'a BackupSpec,
    tuning: &'a Tuning,
    plan: &'a Plan,
    log: &'a RunLog,
    observer: &'a dyn BackupObserver,
}

/// Lists everything in scope at `revision` into the archive, then snapshots the volumes and
/// writes the two lists that describe the archive; counts and problems go into `record`.
async fn write_backup(
    ctx: &BackupContext<'_>,
    (namespace_items, revision): (Vec<Box<RawValue>>, String),
    record: &mut BackupRecord,
) -> Result<(), BackupFailure> {
    let selection = &ctx.plan.selection;
    let mut reporter = RunReporter::new(ctx.log, ctx.observer);
    let namespaces = scoped_namespaces(namespace_items, &ctx.spec.scope, &mut reporter)?;
    reporter.record_into(record);
    record.revision = Some(revision.clone());
    let (types, in_scope) = (selection.types(), namespaces.names.len());
    ctx.log.info(&format!(
        "listing {} namespaced and {} cluster-scoped types in {in_scope} namespaces at revision {revision}",
        selection.namespaced.len(),
        selection.cluster.len(),
    ));
    ctx.observer.on_event(BackupEvent::Started { types, namespaces: in_scope, revision: revision.clone() });

    let key = BucketLayout::archive(&record.name);
    let mtime = record.start_timestamp.timestamp().max(0) as u64;
    let (pipeline, items) = ArchivePipeline::start(ctx.bucket, &key, mtime, ctx.tuning.compression_level)?;
    let progress = ProgressTicker::new(ctx.observer, pipeline.written());
    let lister = Lister::new(ctx.conn, &ctx.spec.scope, ctx.tuning, revision, namespaces.names, items, progress);
    let (findings, written) =
        tokio::join!(lister.list_all(selection, namespaces.objects, &mut reporter), pipeline.finish());
    let written = written?;
    let items = written.list.items();
    ctx.observer.on_event(BackupEvent::Progress { items, bytes: written.bytes });
    record.archive_bytes = written.bytes;
    record.items_backed_up = items;
    record.resource_counts = written.list.counts();
    record.items_excluded_by_label = findings.items_excluded;
    record.not_at_revision = findings.not_at_revision;
    reporter.record_into(record);
    ctx.log.info(&format!("archive: {items} items, {} bytes compressed", record.archive_bytes));
    write_lists(ctx, &written.list, &findings.volumes, &mut reporter, record).await
}

/// Uploads the resource list while the volumes are snapshotted and their list written.
async fn write_lists(
    ctx: &BackupContext<'_>,
    list: &ResourceList,
    volumes: &[serde_json::Value],
    reporter: &mut RunReporter<'_>,
    record: &mut BackupRecord,
) -> Result<(), BackupFailure> {
    let name = &record.name;
    let snapshots = async {
        let report = match &ctx.plan.snapshots {
            Some(snapshots) if !volumes.is_empty() => {
                let tags = BTreeMap::from([
                    ("ark.heptio.com/backup".to_owned(), name.to_string()),
                    ("ark.heptio.com/cluster".to_owned(), ctx.conn.server.clone()),
                ]);
                let on_progress = |completed, total| ctx.observer.on_event(BackupEvent::Snapshots { completed, total });
                let timeout = ctx.tuning.snapshot_timeout.0;
                volumes::snapshot_volumes(snapshots, volumes, &tags, timeout, ctx.log, &on_progress).await
            }
            _ => VolumeReport::not_taken(volumes),
        };
        let written = ctx.bucket.put_gz_json(&BucketLayout::volume_snapshots(name), &report.snapshots).await;
        (report, written)
    };
    let (list_key, list_json) = (BucketLayout::resource_list(name), list.to_json());
    let (listed, (report, written)) = tokio::join!(ctx.bucket.put_gz(&list_key, &list_json), snapshots);
    for error in report.errors {
        reporter.error(error);
    }
    record.volume_snapshots_attempted = report.snapshots.len() as u64;
    record.volume_snapshots_completed =
        report.snapshots.iter().filter(|s| s.phase == SnapshotPhase::Completed).count() as u64;
    record.volumes_not_snapshotted = report.not_snapshotted;
    reporter.record_into(record);
    listed.and(written)?;
    Ok(())
}

/// Ends the backup: its phase from how it went (`failure` says why it failed, if it did), then
/// the log, and last the record: a record that says Completed implies everything else is there.
async fn finish(
    bucket: &Bucket,
    log: &RunLog,
    observer: &dyn BackupObserver,
    mut record: BackupRecord,
    failure: Option<String>,
) -> Result<BackupRecord, BackupError> {
    if let Some(reason) = failure {
        log.error(&format!("backup failed: {reason}"));
        record.phase = BackupPhase::Failed;
        record.failure_reason = Some(reason);
    } else {
        record.phase = if record.errors.is_empty() { BackupPhase::Completed } else { BackupPhase::PartiallyFailed };
    }
    record.completion_timestamp = Some(Utc::now());
    log.info(&format!("backup {} {}", record.name, record.phase));
    observer.on_event(BackupEvent::Finishing);
    bucket.put(&BucketLayout::backup_log(&record.name), log.take_gz().into()).await?;
    bucket.put_json(&BucketLayout::backup_record(&record.name), &record).await?;
    Ok(record)
}
