//! Taking a backup: discover what the server serves, decide what is in scope, run the pods'
//! pre hooks, list every type at one etcd revision, stream the objects through tar.gz into a
//! multipart upload, run the post hooks, then write the log, the resource list and, last, the
//! record that makes the backup visible as done.
//!
//! Memory stays bounded: pages flow from the listers through a bounded channel to one archive
//! writer thread, whose output flows through another bounded channel into the upload. What
//! grows with the number of objects is only the resource list (one short name per object).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::hooks::HookRun;
use super::run_log::RunLog;
use super::volumes::{self, Snapshots, VolumeReport};
use crate::archive::ArchiveWriter;
use crate::cluster::{ApiError, Connection, Pager, ResourceCatalog, discover};
use crate::config::SnapshotLocation;
use crate::config::Tuning;
use crate::model::{
    BackupPhase, BackupRecord, BackupSpec, HookPhase, HookResult, ResourceName, ResourceType, Scope, SnapshotPhase,
    VolumeNotSnapshotted, is_excluded_by_label,
};
use crate::store::{Bucket, BucketLayout, StoreError};

/// Types never backed up unless named in `--include-resources`: a restore could not use them.
pub(crate) const DEFAULT_EXCLUDED: &[&str] = &[
    "events",
    "events.events.k8s.io",
    "nodes",
    "leases.coordination.k8s.io",
    "componentstatuses",
    "bindings",
    "certificatesigningrequests.certificates.k8s.io",
    "nodes.metrics.k8s.io",
    "pods.metrics.k8s.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
];

/// Above this many namespaces in scope, one cluster-wide LIST per type (filtered here) is
/// cheaper than one LIST per namespace and type.
const PER_NAMESPACE_LIMIT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupError {
    #[error("backup {name} already exists in storage location {location}; choose another name or delete it first")]
    Exists { name: String, location: String },
    #[error("invalid filter: {0}")]
    Filter(String),
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
        matches!(self, Self::Exists { .. } | Self::Filter(_) | Self::UnknownSnapshotLocation(_))
    }
}

/// What a running backup reports; the CLI renders it.
#[derive(Debug, Clone)]
pub(crate) enum BackupEvent {
    Started {
        types: usize,
        namespaces: usize,
        revision: String,
    },
    TypeListed {
        group_resource: String,
        items: u64,
    },
    /// Waiting for volume snapshots to complete.
    Snapshots {
        completed: usize,
        total: usize,
    },
    Progress {
        items: u64,
        bytes: u64,
    },
    Finishing,
    Warning(String),
    Hook(Box<HookResult>),
}

pub(crate) trait BackupObserver: Send + Sync {
    fn on_event(&self, event: BackupEvent);
}

/// One object on its way into the archive.
struct ArchiveItem {
    resource: Arc<ResourceType>,
    namespace: Option<String>,
    name: String,
    json: Vec<u8>,
}

/// The parts of an object this layer looks at; everything else passes through untouched.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemHeader {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    metadata: ItemMeta,
    #[serde(default)]
    spec: Option<ItemSpec>,
}

#[derive(Deserialize, Default)]
struct ItemMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemSpec {
    #[serde(default)]
    volume_name: Option<String>,
}

/// One LIST to run: a type, in one namespace or across all of them.
#[derive(Clone)]
struct ListJob {
    resource: Arc<ResourceType>,
    namespace: Option<String>,
    /// For cluster-scoped types backed up only as far as namespaced objects need them.
    only_names: Option<Arc<BTreeSet<String>>>,
}

/// What listing found beyond the objects themselves.
#[derive(Default)]
struct ListFindings {
    /// PVs named by backed-up PVCs.
    bound_volumes: BTreeSet<String>,
    /// group-resources that had at least one object (their CRDs come along).
    nonempty_types: BTreeSet<String>,
    /// The PersistentVolumes in the backup, whose disks are snapshotted.
    volumes: Vec<serde_json::Value>,
    not_at_revision: BTreeMap<String, String>,
    warnings: Vec<String>,
    errors: Vec<String>,
}

/// Everything one backup run shares.
struct Run<'a> {
    conn: &'a Connection,
    spec: &'a BackupSpec,
    tuning: &'a Tuning,
    observer: &'a dyn BackupObserver,
    log: &'a RunLog,
    revision: String,
    namespaces_in_scope: Arc<BTreeSet<String>>,
    /// Namespaces are filtered here (the LIST covered all of them).
    filter_namespaces: bool,
    label_selector_server_side: Option<String>,
    items_excluded: AtomicU64,
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
    spec.scope.validate().map_err(BackupError::Filter)?;
    bucket.ensure_writable(&BucketLayout::backup_record(&name))?;
    let name_is_free = async {
        match bucket.get(&BucketLayout::backup_record(&name)).await {
            Ok(_) => Err(BackupError::Exists { name: name.to_string(), location: bucket.name.to_string() }),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    };
    // Nothing is written and no hook has run yet: an interruption just stops.
    let (version, catalog, selection, snapshots) = tokio::select! {
        prepared = async {
            let ((), version, catalog, snapshots) = tokio::try_join!(
                name_is_free,
                async { Ok(conn.server_version().await?) },
                async { discover(&conn.client).await.map_err(BackupError::Discovery) },
                open_snapshots(&spec, &snapshot_locations),
            )?;
            let selection = select_types(&catalog, &spec.scope)?;
            Ok::<_, BackupError>((version, catalog, selection, snapshots))
        } => prepared?,
        () = cancel.cancelled() => return Err(BackupError::Interrupted),
    };
    let log = RunLog::new();
    // Pre hooks (a database told to flush to disk) run before the namespace list below fixes
    // the revision, so every object is listed as it is after them.
    let pods = selection.namespaced.iter().find(|t| t.group.is_empty() && t.resource == "pods");
    let mut hooks = HookRun::prepare(conn, &spec, pods.map(Arc::as_ref), tuning, &log, observer).await;
    let pre_hook_failed = hooks.run(HookPhase::Pre).await;
    // The namespace list fixes the revision every other type is listed at; a cluster that will
    // not even list namespaces fails the backup before anything is written (but its post hooks).
    let namespaces = match list_namespaces(conn, tuning).await {
        Ok(namespaces) => namespaces,
        Err(e) => {
            hooks.run(HookPhase::Post).await;
            return Err(e);
        }
    };

    let mut record = BackupRecord::new(name.clone(), spec.clone(), now);
    record.server = conn.server.clone();
    record.server_version = version.git_version.clone();
    for (group_version, problem) in &catalog.failed_groups {
        let error = format!("API group {group_version} could not be discovered and is not backed up: {problem}");
        log.error(&error);
        observer.on_event(BackupEvent::Warning(error.clone()));
        record.errors.push(error);
    }
    if let Err(e) = bucket.put_json(&BucketLayout::backup_record(&name), &record).await {
        hooks.run(HookPhase::Post).await;
        return Err(e.into());
    }

    let outcome = if pre_hook_failed {
        log.error("a pre hook failed: nothing is backed up");
        Ok(())
    } else {
        tokio::select! {
            outcome = write_backup(conn, bucket, &spec, &selection, namespaces, snapshots.as_ref(), tuning, observer, &log, &mut record) => outcome,
            () = cancel.cancelled() => Err("interrupted".to_owned()),
        }
    };
    hooks.run(HookPhase::Post).await;
    let outcome = hooks.finish(&mut record, outcome);
    if let Err(reason) = outcome {
        log.error(&format!("backup failed: {reason}"));
        record.phase = BackupPhase::Failed;
        record.failure_reason = Some(reason);
    } else {
        record.phase = if record.errors.is_empty() { BackupPhase::Completed } else { BackupPhase::PartiallyFailed };
    }
    record.completion_timestamp = Some(Utc::now());
    log.info(&format!("backup {} {}", name, record.phase));
    observer.on_event(BackupEvent::Finishing);
    // The log first, the record last: a record that says Completed implies everything else is there.
    bucket.put(&BucketLayout::backup_log(&name), log.take_gz().into()).await?;
    bucket.put_json(&BucketLayout::backup_record(&name), &record).await?;
    Ok(record)
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

/// The types to list, split by how they are listed.
struct TypeSelection {
    namespaced: Vec<Arc<ResourceType>>,
    /// Cluster-scoped types backed up whole.
    cluster: Vec<Arc<ResourceType>>,
    /// Whether cluster-scoped objects are included only as far as namespaced ones need them.
    cluster_auto_dependencies: bool,
    namespaces: Option<Arc<ResourceType>>,
    persistent_volumes: Option<Arc<ResourceType>>,
    crds: Option<Arc<ResourceType>>,
}

fn select_types(catalog: &ResourceCatalog, scope: &Scope) -> Result<TypeSelection, BackupError> {
    let filter = &scope.resources;
    for name in filter.include.iter().chain(&filter.exclude) {
        if name != "*" && catalog.find(name).is_none() {
            return Err(BackupError::Filter(format!(
                "the server has no resource type {name:?} (see `kubectl api-resources`)"
            )));
        }
    }
    let wanted = |t: &ResourceType| {
        let gr = t.group_resource();
        let default_excluded = filter.includes_all() && DEFAULT_EXCLUDED.contains(&gr.to_string().as_str());
        !default_excluded && scope.takes_resource(&gr, Some(t))
    };
    let cluster_scoped = scope.takes_cluster_scoped();
    let find = |group: &str, resource: &str| {
        catalog
            .types
            .iter()
            .find(|t| t.group == group && t.resource == resource)
            .filter(|t| wanted(t))
            .cloned()
            .map(Arc::new)
    };
    let mut selection = TypeSelection {
        namespaced: Vec::new(),
        cluster: Vec::new(),
        cluster_auto_dependencies: scope.takes_dependencies(),
        namespaces: find("", "namespaces"),
        persistent_volumes: find("", "persistentvolumes"),
        crds: find("apiextensions.k8s.io", "customresourcedefinitions"),
    };
    for t in catalog.types.iter().filter(|t| wanted(t)) {
        if t.namespaced {
            selection.namespaced.push(Arc::new(t.clone()));
        } else if cluster_scoped && !(t.group.is_empty() && t.resource == "namespaces") {
            selection.cluster.push(Arc::new(t.clone()));
        }
    }
    Ok(selection)
}

#[expect(clippy::too_many_arguments, reason = "one call site; a struct would only rename them")]
async fn write_backup(
    conn: &Connection,
    bucket: &Bucket,
    spec: &BackupSpec,
    selection: &TypeSelection,
    (namespace_items, revision): (Vec<Box<RawValue>>, String),
    snapshots: Option<&Snapshots>,
    tuning: &Tuning,
    observer: &dyn BackupObserver,
    log: &RunLog,
    record: &mut BackupRecord,
) -> Result<(), String> {
    let name = record.name.clone();
    let mut all_namespaces = BTreeSet::new();
    let mut scoped_namespace_items = Vec::new();
    for item in namespace_items {
        let header: ItemHeader = serde_json::from_str(item.get()).map_err(|e| format!("decode namespace: {e}"))?;
        all_namespaces.insert(header.metadata.name.clone());
        if spec.scope.takes_namespace(&header.metadata.name) {
            scoped_namespace_items.push((header, item));
        }
    }
    for pattern in spec.scope.namespaces.unmatched_includes(&all_namespaces) {
        let warning = if pattern.is_glob() {
            format!("namespace pattern {pattern} matches no namespace")
        } else {
            format!("namespace {pattern} does not exist")
        };
        log.warn(&warning);
        observer.on_event(BackupEvent::Warning(warning.clone()));
        record.warnings.push(warning);
    }
    let namespaces_in_scope: BTreeSet<String> =
        scoped_namespace_items.iter().map(|(h, _)| h.metadata.name.clone()).collect();
    record.revision = Some(revision.clone());
    log.info(&format!(
        "listing {} namespaced and {} cluster-scoped types in {} namespaces at revision {revision}",
        selection.namespaced.len(),
        selection.cluster.len(),
        namespaces_in_scope.len()
    ));
    observer.on_event(BackupEvent::Started {
        types: selection.namespaced.len() + selection.cluster.len(),
        namespaces: namespaces_in_scope.len(),
        revision: revision.clone(),
    });

    let per_namespace = !spec.scope.all_namespaces() && namespaces_in_scope.len() <= PER_NAMESPACE_LIMIT;
    let run = Run {
        conn,
        spec,
        tuning,
        observer,
        log,
        revision,
        filter_namespaces: !spec.scope.all_namespaces() && !per_namespace,
        namespaces_in_scope: Arc::new(namespaces_in_scope),
        label_selector_server_side: spec.scope.labels.server_side(),
        items_excluded: AtomicU64::new(0),
    };

    // Archive pipeline: listers -> items channel -> writer thread -> chunks channel -> upload.
    let (item_tx, item_rx) = mpsc::channel::<Vec<ArchiveItem>>(4);
    let (chunk_tx, mut chunk_rx) = mpsc::channel::<Vec<u8>>(4);
    let mut upload = bucket.writer(&BucketLayout::archive(&name)).map_err(|e| e.to_string())?;
    let uploader = async move {
        let mut bytes = 0u64;
        while let Some(chunk) = chunk_rx.recv().await {
            bytes += chunk.len() as u64;
            if let Err(e) = upload.write_all(&chunk).await {
                let _ = upload.abort().await;
                return Err(e);
            }
        }
        upload.shutdown().await.map(|()| bytes)
    };
    let mtime = record.start_timestamp.timestamp().max(0) as u64;
    let writer_observer_items = Arc::new(AtomicU64::new(0));
    let writer =
        spawn_archive_writer(item_rx, chunk_tx, mtime, tuning.compression_level, Arc::clone(&writer_observer_items));

    let mut findings = ListFindings::default();
    let progress = ProgressTicker::new(observer, &writer_observer_items);
    // The listing runs alongside the upload: the archive's chunks must flow out while the
    // objects flow in, or the bounded channels between them fill up and everything waits.
    let listing = async {
        // Namespaces first, straight from the list that fixed the revision.
        if let Some(ns_type) = &selection.namespaces {
            let items: Vec<ArchiveItem> = scoped_namespace_items
                .into_iter()
                .filter(|(_, raw)| run.keep(raw))
                .map(|(header, raw)| archive_item(ns_type, header, &raw))
                .collect();
            if !items.is_empty() {
                findings.nonempty_types.insert("namespaces".into());
                report_type(&run, "namespaces", items.len() as u64);
                let _ = item_tx.send(items).await;
            }
        }

        let mut jobs = Vec::new();
        for resource in &selection.namespaced {
            if per_namespace {
                for ns in run.namespaces_in_scope.iter() {
                    jobs.push(ListJob {
                        resource: Arc::clone(resource),
                        namespace: Some(ns.clone()),
                        only_names: None,
                    });
                }
            } else {
                jobs.push(ListJob { resource: Arc::clone(resource), namespace: None, only_names: None });
            }
        }
        for resource in &selection.cluster {
            jobs.push(ListJob { resource: Arc::clone(resource), namespace: None, only_names: None });
        }
        run_jobs(&run, jobs, &item_tx, &mut findings, &progress).await;

        // Cluster-scoped objects the namespaced ones need, from the same revision.
        if selection.cluster_auto_dependencies {
            let mut jobs = Vec::new();
            if let Some(pv) = &selection.persistent_volumes
                && !findings.bound_volumes.is_empty()
            {
                let names = Arc::new(std::mem::take(&mut findings.bound_volumes));
                jobs.push(ListJob { resource: Arc::clone(pv), namespace: None, only_names: Some(names) });
            }
            if let Some(crd) = &selection.crds {
                let names: BTreeSet<String> =
                    findings.nonempty_types.iter().filter(|gr| gr.contains('.')).cloned().collect();
                if !names.is_empty() {
                    jobs.push(ListJob {
                        resource: Arc::clone(crd),
                        namespace: None,
                        only_names: Some(Arc::new(names)),
                    });
                }
            }
            run_jobs(&run, jobs, &item_tx, &mut findings, &progress).await;
        }
        drop(item_tx);
    };
    let ((), written, uploaded) = tokio::join!(listing, writer, uploader);
    let summary = match written {
        Ok(Ok(summary)) => summary,
        Ok(Err(e)) => return Err(format!("write archive: {e}")),
        Err(e) => return Err(format!("archive writer stopped: {e}")),
    };
    record.archive_bytes = uploaded.map_err(|e| format!("upload archive {}: {e}", BucketLayout::archive(&name)))?;
    progress.finish(summary.items, record.archive_bytes);
    record.items_backed_up = summary.items;
    record.resource_counts = summary.counts();
    record.items_excluded_by_label = run.items_excluded.load(Ordering::Relaxed);
    record.not_at_revision = findings.not_at_revision;
    record.warnings.extend(findings.warnings);
    record.errors.extend(findings.errors);
    log.info(&format!("archive: {} items, {} bytes compressed", summary.items, record.archive_bytes));

    // The resource list goes up while the volumes are snapshotted and their list written.
    let resource_list = summary.resource_list_json();
    let volumes = async {
        let report = match snapshots {
            Some(snapshots) if !findings.volumes.is_empty() => {
                let tags = BTreeMap::from([
                    ("ark.heptio.com/backup".to_owned(), name.to_string()),
                    ("ark.heptio.com/cluster".to_owned(), conn.server.clone()),
                ]);
                let on_progress = |completed, total| observer.on_event(BackupEvent::Snapshots { completed, total });
                volumes::snapshot_volumes(
                    snapshots,
                    &findings.volumes,
                    &tags,
                    tuning.snapshot_timeout.0,
                    log,
                    &on_progress,
                )
                .await
            }
            _ => VolumeReport {
                not_snapshotted: findings
                    .volumes
                    .iter()
                    .map(|pv| VolumeNotSnapshotted {
                        persistent_volume: pv["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                        reason: "volume snapshots are off for this backup".to_owned(),
                    })
                    .collect(),
                ..VolumeReport::default()
            },
        };
        let written = bucket.put_gz_json(&BucketLayout::volume_snapshots(&name), &report.snapshots).await;
        (report, written)
    };
    let list_key = BucketLayout::resource_list(&name);
    let (listed, (report, written)) = tokio::join!(bucket.put_gz(&list_key, &resource_list), volumes);
    for error in &report.errors {
        log.error(error);
        observer.on_event(BackupEvent::Warning(error.clone()));
    }
    record.volume_snapshots_attempted = report.snapshots.len() as u64;
    record.volume_snapshots_completed =
        report.snapshots.iter().filter(|s| s.phase == SnapshotPhase::Completed).count() as u64;
    record.volumes_not_snapshotted = report.not_snapshotted;
    record.errors.extend(report.errors);
    listed.and(written).map_err(|e| e.to_string())?;
    Ok(())
}

impl Run<'_> {
    /// Whether an object listed by a job belongs in the backup (labels, opt-out label).
    fn keep(&self, raw: &RawValue) -> bool {
        if is_excluded_by_label_raw(raw) {
            self.items_excluded.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let labels = &self.spec.scope.labels;
        if self.label_selector_server_side.is_some() || *labels == Default::default() {
            return true;
        }
        serde_json::from_str::<serde_json::Value>(raw.get()).is_ok_and(|v| labels.matches_object(&v))
    }
}

fn is_excluded_by_label_raw(raw: &RawValue) -> bool {
    // Cheap pre-check: parse only objects that mention the label at all.
    raw.get().contains(crate::model::EXCLUDE_LABEL)
        && serde_json::from_str::<serde_json::Value>(raw.get()).is_ok_and(|v| is_excluded_by_label(&v))
}

fn archive_item(resource: &Arc<ResourceType>, header: ItemHeader, raw: &RawValue) -> ArchiveItem {
    let json = if header.api_version.is_some() {
        raw.get().as_bytes().to_vec()
    } else {
        with_type_meta(raw.get(), &resource.api_version(), &resource.kind)
    };
    ArchiveItem {
        resource: Arc::clone(resource),
        namespace: if resource.namespaced { header.metadata.namespace } else { None },
        name: header.metadata.name,
        json,
    }
}

/// Items of a typed LIST come without apiVersion and kind; put them back, as a GET would show
/// them, without re-serialising the object.
fn with_type_meta(raw: &str, api_version: &str, kind: &str) -> Vec<u8> {
    let body = raw.trim_start().strip_prefix('{').unwrap_or(raw);
    let separator = if body.trim_start().starts_with('}') { "" } else { "," };
    let mut out = Vec::with_capacity(raw.len() + 64);
    out.extend_from_slice(b"{\"apiVersion\":");
    out.extend_from_slice(serde_json::Value::from(api_version).to_string().as_bytes());
    out.extend_from_slice(b",\"kind\":");
    out.extend_from_slice(serde_json::Value::from(kind).to_string().as_bytes());
    out.extend_from_slice(separator.as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

fn report_type(run: &Run<'_>, group_resource: &str, items: u64) {
    run.log.info(&format!("backed up {items} {group_resource}"));
    run.observer.on_event(BackupEvent::TypeListed { group_resource: group_resource.to_owned(), items });
}

async fn list_namespaces(conn: &Connection, tuning: &Tuning) -> Result<(Vec<Box<RawValue>>, String), BackupError> {
    let namespaces = ResourceType {
        group: String::new(),
        version: "v1".into(),
        resource: "namespaces".into(),
        kind: "Namespace".into(),
        namespaced: false,
        verbs: Vec::new(),
        short_names: Vec::new(),
        singular: "namespace".into(),
    };
    let mut pager = Pager::new(&conn.client, &namespaces, None, None, None, tuning.page_size);
    let mut items = Vec::new();
    while let Some(page) = pager.next_page().await.map_err(BackupError::Namespaces)? {
        items.extend(page);
    }
    let revision = pager.list_revision.clone().ok_or_else(|| {
        let path = namespaces.collection_path(None);
        BackupError::Namespaces(ApiError::new(http::Method::GET, path, "the server returned no resourceVersion"))
    })?;
    Ok((items, revision))
}

/// Runs LIST jobs, `listConcurrency` pages at once, sending what they find to the archive
/// writer. Every LIST first fetches one page, the small types entirely; then the LISTs with
/// more pages go on, the one with the most work left first, so that a big type does not
/// finish alone while the other connections idle.
async fn run_jobs(
    run: &Run<'_>,
    jobs: Vec<ListJob>,
    item_tx: &mpsc::Sender<Vec<ArchiveItem>>,
    findings: &mut ListFindings,
    progress: &ProgressTicker<'_>,
) {
    let mut per_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
    for job in &jobs {
        *remaining.entry(job.resource.group_resource().to_string()).or_default() += 1;
    }
    // Whole-cluster LISTs start with a small page: most types end there, and the big ones say
    // how big they are. Per-namespace LISTs are many and small: full pages from the start.
    let first_page = (jobs.len() > run.tuning.list_concurrency && jobs.iter().all(|job| job.namespace.is_none()))
        .then_some(FIRST_PAGE.min(run.tuning.page_size));
    let mut unstarted: VecDeque<ListJob> = jobs.into();
    let mut waiting: Vec<Listing<'_>> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < run.tuning.list_concurrency {
            let next = if let Some(job) = unstarted.pop_front() {
                let pager = job_pager(run, &job);
                let pager = match first_page {
                    Some(size) => pager.with_first_page(size),
                    None => pager,
                };
                Listing { job, pager, found: JobResult::default(), seconds: 0.0, listed: 0 }
            } else if let Some(k) = most_work_left(&waiting) {
                waiting.swap_remove(k)
            } else {
                break;
            };
            in_flight.push(list_page(run, next, item_tx, progress));
        }
        let Some((listing, outcome)) = in_flight.next().await else { break };
        if matches!(outcome, Ok(true)) {
            waiting.push(listing);
            continue;
        }
        let Listing { job, pager, found, .. } = listing;
        let gr = job.resource.group_resource().to_string();
        match outcome {
            Ok(_) => {
                *per_type.entry(gr.clone()).or_default() += found.items;
                if found.items > 0 {
                    findings.nonempty_types.insert(gr.clone());
                }
                findings.bound_volumes.extend(found.bound_volumes);
                findings.volumes.extend(found.volumes);
                if let Some(reason) = pager.fallback_reason {
                    let warning = format!("{gr} was listed as it is now, not at the backup's revision: {reason}");
                    run.log.warn(&warning);
                    findings.not_at_revision.insert(gr.clone(), reason);
                }
            }
            // A type that went away since discovery (its CRD was deleted): nothing to back up.
            Err(e) if e.is_not_found() => {
                let warning = format!("{gr} is no longer served (deleted during the backup); skipped");
                if !findings.warnings.contains(&warning) {
                    run.log.warn(&warning);
                    run.observer.on_event(BackupEvent::Warning(warning.clone()));
                    findings.warnings.push(warning);
                }
            }
            Err(e) => {
                let where_ = job.namespace.as_ref().map(|ns| format!(" in namespace {ns}")).unwrap_or_default();
                let error = format!("list {gr}{where_}: {}", e.message);
                run.log.error(&error);
                run.observer.on_event(BackupEvent::Warning(error.clone()));
                findings.errors.push(error);
            }
        }
        let left = remaining.get_mut(&gr).map(|n| {
            *n -= 1;
            *n
        });
        if left == Some(0) {
            report_type(run, &gr, per_type.get(&gr).copied().unwrap_or(0));
        }
    }
}

/// Items in a whole-cluster LIST's first page.
const FIRST_PAGE: u32 = 50;

/// One LIST under way: its pager, what it found so far, and how fast its pages came.
struct Listing<'a> {
    job: ListJob,
    pager: Pager<'a>,
    found: JobResult,
    /// Seconds its pages took and the items they held: custom resources cost the apiserver
    /// several times what built-in objects do, so counts alone would order them wrongly.
    seconds: f64,
    listed: u64,
}

/// The waiting LIST with the most work left: remaining items times seconds per item so far.
fn most_work_left(waiting: &[Listing<'_>]) -> Option<usize> {
    let work =
        |l: &Listing<'_>| l.pager.remaining().unwrap_or(u64::MAX / 2) as f64 * l.seconds / l.listed.max(1) as f64;
    (0..waiting.len()).max_by(|&a, &b| work(&waiting[a]).total_cmp(&work(&waiting[b])))
}

#[derive(Default)]
struct JobResult {
    items: u64,
    bound_volumes: Vec<String>,
    volumes: Vec<serde_json::Value>,
}

fn job_pager<'a>(run: &Run<'a>, job: &ListJob) -> Pager<'a> {
    let selector = if job.only_names.is_some() { None } else { run.label_selector_server_side.clone() };
    Pager::new(
        &run.conn.client,
        &job.resource,
        job.namespace.as_deref(),
        selector,
        Some(run.revision.clone()),
        run.tuning.page_size,
    )
}

/// Fetches the next page of a LIST and sends what it keeps to the archive writer; says
/// whether there is more to fetch.
async fn list_page<'a>(
    run: &Run<'a>,
    mut listing: Listing<'a>,
    item_tx: &mpsc::Sender<Vec<ArchiveItem>>,
    progress: &ProgressTicker<'_>,
) -> (Listing<'a>, Result<bool, ApiError>) {
    let started = Instant::now();
    let page = match listing.pager.next_page().await {
        Ok(Some(page)) => page,
        Ok(None) => return (listing, Ok(false)),
        Err(e) => return (listing, Err(e)),
    };
    listing.seconds += started.elapsed().as_secs_f64();
    listing.listed += page.len() as u64;
    let job = &listing.job;
    let found = &mut listing.found;
    let resource = &job.resource;
    let is_pvc = resource.group.is_empty() && resource.resource == "persistentvolumeclaims";
    let is_pv = resource.group.is_empty() && resource.resource == "persistentvolumes";
    let mut batch = Vec::with_capacity(page.len());
    for raw in page {
        let Ok(header) = serde_json::from_str::<ItemHeader>(raw.get()) else {
            run.log.warn(&format!("skipped an undecodable {} object", resource.group_resource()));
            continue;
        };
        if let Some(names) = &job.only_names {
            if !names.contains(&header.metadata.name) {
                continue;
            }
        } else {
            if run.filter_namespaces
                && resource.namespaced
                && !header.metadata.namespace.as_ref().is_some_and(|ns| run.namespaces_in_scope.contains(ns))
            {
                continue;
            }
            if !run.keep(&raw) {
                continue;
            }
        }
        if is_pvc && let Some(volume) = header.spec.as_ref().and_then(|s| s.volume_name.clone()) {
            found.bound_volumes.push(volume);
        }
        if is_pv && let Ok(pv) = serde_json::from_str(raw.get()) {
            found.volumes.push(pv);
        }
        batch.push(archive_item(resource, header, &raw));
    }
    found.items += batch.len() as u64;
    if !batch.is_empty() && item_tx.send(batch).await.is_err() {
        // The writer stopped; its own error says why. Nothing more to list.
        return (listing, Ok(false));
    }
    progress.tick();
    let more = !listing.pager.is_done();
    (listing, Ok(more))
}

/// What the archive writer wrote, type by type.
#[derive(Default)]
struct ArchiveSummary {
    items: u64,
    /// `apps/v1/Deployment` -> its items, keyed as Velero's resource list is.
    per_type: BTreeMap<String, TypeTally>,
}

struct TypeTally {
    group_resource: String,
    items: u64,
    /// The resource list's `"namespace/name"` strings, comma-separated JSON: a few bytes per
    /// object rather than a `String` each.
    names_json: Vec<u8>,
}

impl ArchiveSummary {
    fn add(&mut self, key: &str, resource: &ResourceType, namespace: Option<&str>, name: &str) {
        self.items += 1;
        if !self.per_type.contains_key(key) {
            let tally =
                TypeTally { group_resource: resource.group_resource().to_string(), items: 0, names_json: Vec::new() };
            self.per_type.insert(key.to_owned(), tally);
        }
        let Some(tally) = self.per_type.get_mut(key) else { return };
        if tally.items > 0 {
            tally.names_json.push(b',');
        }
        tally.items += 1;
        let entry = match namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_owned(),
        };
        // Serialising a string into memory cannot fail.
        let _ = serde_json::to_writer(&mut tally.names_json, &entry);
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for tally in self.per_type.values() {
            *counts.entry(tally.group_resource.clone()).or_default() += tally.items;
        }
        counts
    }

    /// `<name>-resource-list.json.gz`'s JSON: `{"apps/v1/Deployment": ["namespace/name", ...], ...}`.
    fn resource_list_json(&self) -> Vec<u8> {
        let mut out = b"{".to_vec();
        for (i, (key, tally)) in self.per_type.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut out, key);
            out.extend_from_slice(b":[");
            out.extend_from_slice(&tally.names_json);
            out.push(b']');
        }
        out.push(b'}');
        out
    }
}

fn spawn_archive_writer(
    mut item_rx: mpsc::Receiver<Vec<ArchiveItem>>,
    chunk_tx: mpsc::Sender<Vec<u8>>,
    mtime: u64,
    level: u32,
    written: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<std::io::Result<ArchiveSummary>> {
    tokio::task::spawn_blocking(move || {
        let mut archive = ArchiveWriter::new(ChunkWriter::new(chunk_tx), mtime, level)?;
        let mut summary = ArchiveSummary::default();
        // The resource list key of the type last seen: a batch is one type's page.
        let mut key: Option<(Arc<ResourceType>, String)> = None;
        while let Some(batch) = item_rx.blocking_recv() {
            for item in batch {
                archive.add_item(&item.resource, item.namespace.as_deref(), &item.name, &item.json)?;
                if !key.as_ref().is_some_and(|(resource, _)| Arc::ptr_eq(resource, &item.resource)) {
                    let text = format!("{}/{}", item.resource.api_version(), item.resource.kind);
                    key = Some((Arc::clone(&item.resource), text));
                }
                if let Some((_, key)) = &key {
                    summary.add(key, &item.resource, item.namespace.as_deref(), &item.name);
                }
            }
            written.store(summary.items, Ordering::Relaxed);
        }
        let mut out = archive.finish()?;
        out.flush()?;
        Ok(summary)
    })
}

/// A `Write` that hands fixed-size chunks to the async upload, blocking when it falls behind.
struct ChunkWriter {
    buffer: Vec<u8>,
    tx: mpsc::Sender<Vec<u8>>,
}

const CHUNK: usize = 1024 * 1024;

impl ChunkWriter {
    fn new(tx: mpsc::Sender<Vec<u8>>) -> Self {
        Self { buffer: Vec::with_capacity(CHUNK), tx }
    }

    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(chunk).map_err(|_| std::io::Error::other("the upload stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

/// Reports progress at most a few times a second, however many pages arrive.
struct ProgressTicker<'a> {
    observer: &'a dyn BackupObserver,
    items: &'a AtomicU64,
    last: std::sync::Mutex<std::time::Instant>,
}

impl<'a> ProgressTicker<'a> {
    fn new(observer: &'a dyn BackupObserver, items: &'a AtomicU64) -> Self {
        Self { observer, items, last: std::sync::Mutex::new(std::time::Instant::now()) }
    }

    fn tick(&self) {
        let Ok(mut last) = self.last.lock() else { return };
        if last.elapsed() >= std::time::Duration::from_millis(200) {
            *last = std::time::Instant::now();
            self.observer.on_event(BackupEvent::Progress { items: self.items.load(Ordering::Relaxed), bytes: 0 });
        }
    }

    fn finish(&self, items: u64, bytes: u64) {
        self.observer.on_event(BackupEvent::Progress { items, bytes });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_gives_velero_resource_list_and_counts() {
        let resource = |group: &str, resource: &str, kind: &str| ResourceType {
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            kind: kind.into(),
            namespaced: true,
            verbs: vec![],
            short_names: vec![],
            singular: String::new(),
        };
        let deployments = resource("apps", "deployments", "Deployment");
        let namespaces = ResourceType { namespaced: false, ..resource("", "namespaces", "Namespace") };
        let mut summary = ArchiveSummary::default();
        summary.add("apps/v1/Deployment", &deployments, Some("shop"), "web");
        summary.add("v1/Namespace", &namespaces, None, "shop");
        summary.add("apps/v1/Deployment", &deployments, Some("shop"), "we\"ird");
        let list: BTreeMap<String, Vec<String>> = serde_json::from_slice(&summary.resource_list_json()).unwrap();
        assert_eq!(list["apps/v1/Deployment"], ["shop/web", "shop/we\"ird"]);
        assert_eq!(list["v1/Namespace"], ["shop"]);
        assert_eq!(summary.items, 3);
        assert_eq!(summary.counts(), BTreeMap::from([("deployments.apps".into(), 2), ("namespaces".into(), 1)]));
        assert_eq!(String::from_utf8(ArchiveSummary::default().resource_list_json()).unwrap(), "{}");
    }

    #[test]
    fn type_meta_is_added_without_reserialising() {
        let out = with_type_meta(r#"{"metadata":{"name":"a"}}"#, "apps/v1", "Deployment");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["apiVersion"], "apps/v1");
        assert_eq!(v["kind"], "Deployment");
        assert_eq!(v["metadata"]["name"], "a");
        let empty = with_type_meta("{}", "v1", "ConfigMap");
        assert_eq!(String::from_utf8(empty).unwrap(), r#"{"apiVersion":"v1","kind":"ConfigMap"}"#);
    }
}
