//! Restoring a backup: read and check the whole archive first (into a local spool), then
//! create its objects tier by tier in priority order (CRDs, waited on until Established;
//! namespaces, waited on while Terminating; then storage, RBAC, config, workloads), each tier's
//! objects in parallel. Every object gets an outcome; a failed object never stops the others.
//! The record, written last, says how it went; the results list every object.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::restore_rules::{self, CleanOptions};
use super::run_log::RunLog;
use super::spool::{Spool, SpoolError};
use super::volumes::{self, Snapshots};
use crate::cluster::{ApiError, Connection, ResourceCatalog, discover, objects};
use crate::config::{SnapshotLocation, Tuning};
use crate::model::{
    BackupPhase, CRDS, ClusterDependencies, ExistingPolicy, GroupResource, ItemOutcome, ItemResult, OutOfScope,
    ResourceName, ResourceType, RestorePhase, RestoreRecord, RestoreResults, RestoreSpec, SnapshotPhase,
    VolumeSnapshot,
};
use crate::snapshot;
use crate::store::{Bucket, BucketLayout, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreError {
    #[error("restore {name} already exists in storage location {location}; choose another name")]
    Exists { name: String, location: String },
    #[error(
        "backup {name} is {phase}, not Completed or PartiallyFailed; pass --allow-partial to restore what its archive holds"
    )]
    BackupIncomplete { name: String, phase: BackupPhase },
    #[error("invalid restore: {0}")]
    Invalid(String),
    #[error(transparent)]
    Lookup(#[from] super::backups::LookupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("read backup {backup}")]
    Archive { backup: String, source: SpoolError },
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
                | Self::Invalid(_)
                | Self::UnknownSnapshotLocation { .. }
        ) || matches!(self, Self::Lookup(super::backups::LookupError::NotFound { .. }))
    }
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
    let record_key = BucketLayout::restore_record(&name);
    // A dry run leaves no trace; a read-only location (another cluster's backups) is never
    // written, so such a restore keeps its record, log and results to itself.
    let persist = !spec.dry_run && !bucket.read_only;
    match bucket.get(&record_key).await {
        Ok(_) => return Err(RestoreError::Exists { name: name.to_string(), location: bucket.name.to_string() }),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    let backup = super::backups::get_backup(bucket, &spec.backup).await?;
    if !allow_partial && !matches!(backup.phase, BackupPhase::Completed | BackupPhase::PartiallyFailed) {
        return Err(RestoreError::BackupIncomplete { name: spec.backup.to_string(), phase: backup.phase });
    }
    spec.scope.validate().map_err(RestoreError::Invalid)?;
    for (old, new) in &spec.namespace_mappings {
        ResourceName::parse(new).map_err(|e| RestoreError::Invalid(format!("namespace mapping {old}:{new}: {e}")))?;
    }

    // Read and check the whole archive, and reach the snapshots' provider, before touching the cluster.
    let spool = spool_archive(bucket, &spec.backup).await?;
    let volumes = if spec.restore_volumes && !spec.dry_run {
        open_volumes(bucket, &spec.backup, &snapshot_locations).await?
    } else {
        VolumePlan::default()
    };
    let catalog = discover(&conn.client).await.map_err(RestoreError::Discovery)?;
    let total: u64 = spool.types().map(|(_, n)| n).sum();
    observer.on_event(RestoreEvent::ArchiveRead { items: total, types: spool.types().count() });

    let log = RunLog::new();
    let mut record = RestoreRecord::new(name.clone(), spec.clone(), now);
    record.server = conn.server.clone();
    log.info(&format!("restoring {total} objects of backup {} into {}", spec.backup, conn.server));
    if persist {
        bucket.put_json(&record_key, &record).await?;
    } else if !spec.dry_run {
        let warning = format!("storage location {} is read-only: this restore's record is not stored", bucket.name);
        log.warn(&warning);
        observer.on_event(RestoreEvent::Warning(warning));
    }

    let mut results = ResultsWriter::new();
    let run = Run {
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
        outcome = run.restore_all(&spool, catalog, &mut results) => outcome,
        () = cancel.cancelled() => Err("interrupted".to_owned()),
    };
    // Item failures and the problems around them (a namespace that stayed Terminating, a CRD
    // that never became Established).
    record.counts = results.counts.clone();
    record.errors = results.errors.values().flatten().cloned().collect();
    record.warnings = results.warnings.values().flatten().cloned().collect();
    record.phase = match outcome {
        Err(reason) => {
            log.error(&format!("restore failed: {reason}"));
            record.failure_reason = Some(reason);
            RestorePhase::Failed
        }
        Ok(()) if record.errors.is_empty() => RestorePhase::Completed,
        Ok(()) => RestorePhase::PartiallyFailed,
    };
    record.completion_timestamp = Some(Utc::now());
    log.info(&format!("restore {name} {}", record.phase));
    observer.on_event(RestoreEvent::Finishing);
    let results = results.finish();
    if persist {
        bucket.put(&BucketLayout::restore_log(&name), log.take_gz().into()).await?;
        bucket.put(&BucketLayout::restore_results(&name), results.0.clone()).await?;
        bucket.put_json(&record_key, &record).await?;
    }
    Ok((record, results))
}

/// Every object's outcome as it comes: counted, and written as gzipped JSON at once, so a
/// restore holds a few bytes per object rather than the whole list. Warnings and errors (as
/// many as went wrong) are kept for the record.
struct ResultsWriter {
    items: GzEncoder<Vec<u8>>,
    counts: BTreeMap<ItemOutcome, u64>,
    warnings: BTreeMap<String, Vec<String>>,
    errors: BTreeMap<String, Vec<String>>,
}

/// `restore-<name>-results.gz` as written: a gzipped `RestoreResults`.
pub(crate) struct GzResults(bytes::Bytes);

impl GzResults {
    pub(crate) fn decode(&self) -> std::io::Result<RestoreResults> {
        Ok(serde_json::from_reader(flate2::read::GzDecoder::new(&self.0[..]))?)
    }
}

impl ResultsWriter {
    fn new() -> Self {
        let mut items = GzEncoder::new(Vec::new(), Compression::fast());
        // Writing into memory only fails when memory does (here and below).
        let _ = items.write_all(br#"{"items":["#);
        Self { items, counts: BTreeMap::new(), warnings: BTreeMap::new(), errors: BTreeMap::new() }
    }

    fn push(&mut self, item: &ItemResult) {
        if !self.counts.is_empty() {
            let _ = self.items.write_all(b",");
        }
        let _ = serde_json::to_writer(&mut self.items, item);
        *self.counts.entry(item.outcome).or_default() += 1;
        let what = || format!("{} {}", item.resource, qualified(item.namespace.as_deref(), &item.name));
        let namespace = item.namespace.clone().unwrap_or_default();
        match item.outcome {
            ItemOutcome::Failed => {
                let message = format!("{}: {}", what(), item.message.as_deref().unwrap_or("failed"));
                self.errors.entry(namespace).or_default().push(message);
            }
            ItemOutcome::ExistsDifferent => {
                let message = format!("{} exists and differs from the backup", what());
                self.warnings.entry(namespace).or_default().push(message);
            }
            _ => {}
        }
    }

    fn error(&mut self, namespace: &str, message: String) {
        self.errors.entry(namespace.to_owned()).or_default().push(message);
    }

    fn finish(mut self) -> GzResults {
        let _ = self.items.write_all(br#"],"warnings":"#);
        let _ = serde_json::to_writer(&mut self.items, &self.warnings);
        let _ = self.items.write_all(br#","errors":"#);
        let _ = serde_json::to_writer(&mut self.items, &self.errors);
        let _ = self.items.write_all(b"}");
        GzResults(self.items.finish().unwrap_or_default().into())
    }
}

fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

async fn spool_archive(bucket: &Bucket, backup: &ResourceName) -> Result<Spool, RestoreError> {
    let download = bucket.get_stream(&BucketLayout::archive(backup)).await?;
    let reader = tokio_util::io::SyncIoBridge::new(download.into_async_read());
    let backup_name = backup.to_string();
    tokio::task::spawn_blocking(move || Spool::fill(reader))
        .await
        .map_err(|e| RestoreError::Invalid(format!("archive reader stopped: {e}")))?
        .map_err(|source| RestoreError::Archive { backup: backup_name, source })
}

/// The backup's completed volume snapshots by PV name, and their locations, opened.
#[derive(Default)]
struct VolumePlan {
    snapshots: BTreeMap<String, VolumeSnapshot>,
    locations: BTreeMap<String, Snapshots>,
    /// Restored PVs that got a new name: original -> new (PVCs' volumeName follows).
    renamed: std::sync::Mutex<BTreeMap<String, String>>,
}

async fn open_volumes(
    bucket: &Bucket,
    backup: &ResourceName,
    configured: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<VolumePlan, RestoreError> {
    let mut plan = VolumePlan::default();
    for snapshot in super::backups::volume_snapshots(bucket, backup).await? {
        if snapshot.phase != SnapshotPhase::Completed {
            continue;
        }
        if !plan.locations.contains_key(&snapshot.location) {
            let unknown = || RestoreError::UnknownSnapshotLocation {
                backup: backup.to_string(),
                location: snapshot.location.clone(),
            };
            let opened = Snapshots::open_configured(&snapshot.location, configured).await.ok_or_else(unknown)??;
            plan.locations.insert(snapshot.location.clone(), opened);
        }
        plan.snapshots.insert(snapshot.persistent_volume.clone(), snapshot);
    }
    Ok(plan)
}

struct Run<'a> {
    conn: &'a Connection,
    spec: &'a RestoreSpec,
    tuning: &'a Tuning,
    observer: &'a dyn RestoreObserver,
    log: &'a RunLog,
    restore: &'a str,
    wait_timeout: Duration,
    fail_fast: bool,
    volumes: VolumePlan,
}

/// One object on its way in, after cleaning.
struct Prepared {
    resource: String,
    namespace: Option<String>,
    name: String,
    object: Value,
    /// What was done to it beyond cleaning, for its result.
    note: Option<String>,
}

impl Run<'_> {
    async fn restore_all(
        &self,
        spool: &Spool,
        mut catalog: ResourceCatalog,
        results: &mut ResultsWriter,
    ) -> Result<(), String> {
        let priorities: Vec<String> = if self.spec.resource_priorities.is_empty() {
            restore_rules::DEFAULT_PRIORITIES.iter().map(|s| s.to_string()).collect()
        } else {
            self.spec.resource_priorities.clone()
        };
        let mut tiers: Vec<(&str, u64)> = spool.types().collect();
        tiers.sort_by_key(|(gr, _)| (restore_rules::priority(gr, &priorities), gr.to_string()));
        let needed = self.dependencies(spool)?;
        let mut namespaces_ready: BTreeSet<String> = BTreeSet::new();
        for (gr, count) in tiers {
            if !self.resource_wanted(gr, &catalog) {
                self.log.info(&format!("{gr}: {count} objects left out by the resource filter"));
                continue;
            }
            self.observer.on_event(RestoreEvent::Tier { resource: gr.to_owned(), items: count });
            let mut reader = spool.reader(gr).map_err(|e| e.to_string())?;
            let mut created_crds = Vec::new();
            loop {
                let batch = reader.next_batch(256).map_err(|e| format!("read restore spool: {e}"))?;
                if batch.is_empty() {
                    break;
                }
                let mut prepared = Vec::new();
                for body in batch {
                    match self.prepare(gr, &body, &needed) {
                        Ok(p) => prepared.push(p),
                        Err(result) => self.record(results, result),
                    }
                }
                for ns in prepared.iter().filter_map(|p| p.namespace.clone()).collect::<BTreeSet<_>>() {
                    if gr != "namespaces" && !namespaces_ready.contains(&ns) {
                        if let Err(message) = self.ensure_namespace(&ns).await {
                            self.log.error(&message);
                            results.error(&ns, message);
                        }
                        namespaces_ready.insert(ns);
                    }
                }
                let outcomes: Vec<ItemResult> = futures::stream::iter(prepared)
                    .map(|p| async {
                        match self.restore_disk(p).await {
                            Ok(p) => self.restore_one(p, &catalog).await,
                            Err(failed) => failed,
                        }
                    })
                    .buffer_unordered(self.tuning.restore_concurrency)
                    .collect()
                    .await;
                let first_failure = outcomes.iter().find(|r| r.outcome == ItemOutcome::Failed).map(|r| {
                    format!(
                        "{} {}: {}",
                        r.resource,
                        qualified(r.namespace.as_deref(), &r.name),
                        r.message.as_deref().unwrap_or("failed")
                    )
                });
                for result in outcomes {
                    if gr == CRDS && matches!(result.outcome, ItemOutcome::Created) {
                        created_crds.push(result.name.clone());
                    }
                    if gr == "namespaces" && !matches!(result.outcome, ItemOutcome::Failed | ItemOutcome::Skipped) {
                        namespaces_ready.insert(result.name.clone());
                    }
                    self.record(results, result);
                }
                if let (true, Some(failure)) = (self.fail_fast, first_failure) {
                    return Err(format!("stopped at the first failed object (--fail-fast): {failure}"));
                }
            }
            if gr == CRDS {
                for crd in &created_crds {
                    if let Err(message) = self.wait_established(crd).await {
                        self.log.error(&message);
                        results.error("", message);
                    }
                }
                // The new CRDs' types must be known before their objects come.
                catalog = discover(&self.conn.client).await.map_err(|e| format!("discover after CRDs: {e}"))?;
            }
        }
        Ok(())
    }

    fn record(&self, results: &mut ResultsWriter, result: ItemResult) {
        let line = format!(
            "{:?} {} {}{}",
            result.outcome,
            result.resource,
            qualified(result.namespace.as_deref(), &result.name),
            result.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
        );
        match result.outcome {
            ItemOutcome::Failed => self.log.error(&line),
            ItemOutcome::ExistsDifferent => self.log.warn(&line),
            _ => self.log.info(&line),
        }
        self.observer.on_event(RestoreEvent::Item { outcome: result.outcome });
        results.push(&result);
    }

    fn resource_wanted(&self, gr: &str, catalog: &ResourceCatalog) -> bool {
        let served = catalog.types.iter().find(|t| t.group_resource().to_string() == gr);
        self.spec.scope.takes_resource(&GroupResource::parse(gr), served)
    }

    /// The cluster-scoped objects that come along when the restore is limited to some
    /// namespaces: the PVs claimed by restored PVCs and the CRDs of the archive's custom types.
    fn dependencies(&self, spool: &Spool) -> Result<ClusterDependencies, String> {
        let mut needed = ClusterDependencies::default();
        if !self.spec.scope.takes_dependencies() {
            return Ok(needed);
        }
        for (gr, _) in spool.types() {
            needed.add_type(gr);
        }
        let mut reader = spool.reader("persistentvolumeclaims").map_err(|e| e.to_string())?;
        loop {
            let batch = reader.next_batch(512).map_err(|e| e.to_string())?;
            if batch.is_empty() {
                break;
            }
            for body in batch {
                let Ok(pvc) = serde_json::from_slice::<Value>(&body) else { continue };
                let ns = pvc["metadata"]["namespace"].as_str().unwrap_or_default();
                if self.spec.scope.takes_namespace(ns)
                    && let Some(volume) = pvc["spec"]["volumeName"].as_str()
                {
                    needed.add_claimed_volume(volume);
                }
            }
        }
        Ok(needed)
    }

    /// Decodes, filters, cleans, remaps and labels one object; an `Err` is its final result.
    fn prepare(&self, gr: &str, body: &[u8], needed: &ClusterDependencies) -> Result<Prepared, ItemResult> {
        let mut object: Value = serde_json::from_slice(body).map_err(|e| ItemResult {
            resource: gr.to_owned(),
            namespace: None,
            name: "?".into(),
            outcome: ItemOutcome::Failed,
            message: Some(format!("not valid JSON in the archive: {e}")),
        })?;
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let skipped = |reason: String| ItemResult {
            resource: gr.to_owned(),
            namespace: namespace.clone(),
            name: name.clone(),
            outcome: ItemOutcome::Skipped,
            message: Some(reason),
        };
        match self.spec.scope.admits(gr, namespace.as_deref(), &name, needed) {
            Ok(()) => {}
            Err(OutOfScope::Namespace) => return Err(skipped("namespace not in the restore".into())),
            Err(OutOfScope::ClusterScoped) => return Err(skipped("cluster-scoped object not in the restore".into())),
        }
        if gr != "namespaces" && !self.spec.scope.labels.matches_object(&object) {
            return Err(skipped("does not match the label selector".into()));
        }
        if let Some(reason) = restore_rules::skip_reason(gr, &object) {
            return Err(skipped(reason.to_string()));
        }
        let options = CleanOptions {
            preserve_node_ports: self.spec.preserve_node_ports,
            restore_status: self.spec.restore_status.clone(),
        };
        restore_rules::clean(gr, &mut object, &options);
        restore_rules::remap_namespaces(gr, &mut object, &self.spec.namespace_mappings);
        if gr == "persistentvolumeclaims"
            && let Some(volume) = object["spec"]["volumeName"].as_str()
            && let Some(renamed) = self.volumes.renamed.lock().expect("lock").get(volume).cloned()
        {
            object["spec"]["volumeName"] = Value::String(renamed);
        }
        restore_rules::add_restore_labels(&mut object, self.restore, self.spec.backup.as_str());
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        Ok(Prepared { resource: gr.to_owned(), namespace, name, object, note: None })
    }

    /// A PV whose disk was snapshotted gets a new volume made from the snapshot, and points at
    /// it. It keeps its name unless that is taken (the original PV still exists) or its claim
    /// moved to another namespace; then it gets a new one, which its PVC follows. A PV whose
    /// claim is already back in the cluster is left to the usual handling of existing objects,
    /// so that running a restore twice makes no second volume.
    async fn restore_disk(&self, mut p: Prepared) -> Result<Prepared, ItemResult> {
        let Some(snapshot) = self.volumes.snapshots.get(&p.name).filter(|_| p.resource == "persistentvolumes") else {
            return Ok(p);
        };
        let failed = |message: String| ItemResult {
            resource: p.resource.clone(),
            namespace: None,
            name: p.name.clone(),
            outcome: ItemOutcome::Failed,
            message: Some(message),
        };
        let client = &self.conn.client;
        let exists = |path: String| async move {
            match objects::get(client, &path).await {
                Ok(_) => Ok(true),
                Err(e) if e.is_not_found() => Ok(false),
                Err(e) => Err(e.message),
            }
        };
        let pv_exists = exists(format!("/api/v1/persistentvolumes/{}", p.name)).await.map_err(failed)?;
        let claim = &p.object["spec"]["claimRef"];
        let (claim_ns, claim_name) = (claim["namespace"].as_str(), claim["name"].as_str());
        if let (Some(ns), Some(claim_name)) = (claim_ns, claim_name)
            && pv_exists
            && exists(format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim_name}")).await.map_err(failed)?
        {
            return Ok(p);
        }
        let remapped = claim_ns.is_some_and(|ns| self.spec.namespace_mappings.values().any(|new| new == ns));
        let zone = self.spec.volume_az.clone().unwrap_or_else(|| snapshot.availability_zone.clone());
        let tags = BTreeMap::from([
            ("ark.heptio.com/restore".to_owned(), self.restore.to_owned()),
            ("ark.heptio.com/backup".to_owned(), self.spec.backup.to_string()),
            ("ark.heptio.com/pv".to_owned(), p.name.clone()),
        ]);
        let location = &self.volumes.locations[&snapshot.location];
        let volume = volumes::restore_volume(location, snapshot, &zone, &tags, self.tuning.snapshot_timeout.0)
            .await
            .map_err(|e| failed(e.to_string()))?;
        snapshot::point_at_volume(&mut p.object, &volume, &zone);
        let mut note = format!("new volume {volume} from snapshot {}", snapshot.snapshot_id);
        if pv_exists || remapped {
            let new_name = restore_rules::renamed_volume(&p.name, self.restore);
            note.push_str(&format!(", restored as {new_name}"));
            self.volumes.renamed.lock().expect("lock").insert(p.name.clone(), new_name.clone());
            p.object["metadata"]["name"] = Value::String(new_name.clone());
            p.name = new_name;
        }
        self.log.info(&format!("persistent volume {}: {note}", snapshot.persistent_volume));
        p.note = Some(note);
        Ok(p)
    }

    async fn restore_one(&self, p: Prepared, catalog: &ResourceCatalog) -> ItemResult {
        let mut result = ItemResult {
            resource: p.resource.clone(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            outcome: ItemOutcome::Failed,
            message: None,
        };
        let Some(resource) = resource_for(&p.object, &p.resource, catalog) else {
            result.message = Some(format!("the cluster does not serve {}", p.resource));
            return result;
        };
        let collection = resource.collection_path(p.namespace.as_deref());
        let client = &self.conn.client;
        let dry_run = self.spec.dry_run;
        match objects::create(client, &collection, &p.object, dry_run).await {
            Ok(_) => {
                result.outcome = if dry_run { ItemOutcome::WouldCreate } else { ItemOutcome::Created };
                result.message = p.note.clone();
            }
            Err(e) if e.is_already_exists() => {
                let path = format!("{collection}/{}", p.name);
                match self.existing(&path, &p, dry_run).await {
                    Ok((outcome, message)) => {
                        result.outcome = outcome;
                        result.message = message;
                    }
                    Err(e) => result.message = Some(e.message),
                }
            }
            Err(e) if dry_run && e.is_not_found() && p.namespace.is_some() => {
                // The namespace does not exist yet; a real restore creates it first.
                result.outcome = ItemOutcome::WouldCreate;
                result.message = Some("its namespace would be created first; not checked by the server".into());
            }
            Err(e) => result.message = Some(e.message),
        }
        result
    }

    /// An object that already exists: compare it with the backup and, with policy update,
    /// patch it to the backed-up state.
    async fn existing(
        &self,
        path: &str,
        p: &Prepared,
        dry_run: bool,
    ) -> Result<(ItemOutcome, Option<String>), ApiError> {
        let live = objects::get(&self.conn.client, path).await?;
        let mut differences = Vec::new();
        diff_paths(&comparable(&p.resource, &p.object), &comparable(&p.resource, &live), "", &mut differences);
        if differences.is_empty() {
            return Ok((ItemOutcome::ExistsIdentical, None));
        }
        let shown = differences.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        let more = if differences.len() > 3 { format!(" and {} more", differences.len() - 3) } else { String::new() };
        if self.spec.existing_resource_policy == ExistingPolicy::None {
            return Ok((ItemOutcome::ExistsDifferent, Some(format!("differs in {shown}{more}; kept"))));
        }
        let mut patch = p.object.clone();
        if let Some(map) = patch.as_object_mut() {
            map.remove("status");
        }
        objects::merge_patch(&self.conn.client, path, &patch, dry_run).await?;
        Ok((if dry_run { ItemOutcome::WouldUpdate } else { ItemOutcome::Updated }, None))
    }

    /// Creates a namespace that objects are about to land in, unless it exists; waits out one
    /// that is still Terminating.
    async fn ensure_namespace(&self, namespace: &str) -> Result<(), String> {
        let path = format!("/api/v1/namespaces/{namespace}");
        let deadline = tokio::time::Instant::now() + self.wait_timeout;
        loop {
            match objects::get(&self.conn.client, &path).await {
                Ok(live) if live["status"]["phase"] == "Terminating" => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(format!(
                            "namespace {namespace} is still Terminating after {}s; wait for it to go, or restore into another namespace with --namespace-mappings",
                            self.wait_timeout.as_secs()
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(_) => return Ok(()),
                Err(e) if e.is_not_found() => {
                    if self.spec.dry_run {
                        return Ok(());
                    }
                    let mut object =
                        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
                    restore_rules::add_restore_labels(&mut object, self.restore, self.spec.backup.as_str());
                    return match objects::create(&self.conn.client, "/api/v1/namespaces", &object, false).await {
                        Ok(_) => Ok(()),
                        Err(e) if e.is_already_exists() => continue,
                        Err(e) => Err(format!("create namespace {namespace}: {}", e.message)),
                    };
                }
                Err(e) => return Err(format!("read namespace {namespace}: {}", e.message)),
            }
        }
    }

    async fn wait_established(&self, crd: &str) -> Result<(), String> {
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}");
        let deadline = tokio::time::Instant::now() + self.wait_timeout;
        loop {
            let live =
                objects::get(&self.conn.client, &path).await.map_err(|e| format!("read CRD {crd}: {}", e.message))?;
            let established = live["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Established" && c["status"] == "True"));
            if established {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                // The server's conditions say why (a name already in use, say).
                let why: Vec<String> = live["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["status"] != "True")
                    .map(|c| format!("{}: {}", c["type"].as_str().unwrap_or("?"), c["message"].as_str().unwrap_or("")))
                    .collect();
                let why = if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) };
                return Err(format!(
                    "CRD {crd} did not become Established within {}s{why}; its custom resources will fail",
                    self.wait_timeout.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The served type to create `object` as: its own group and version when served, with the
/// plural name discovery gives for its kind.
fn resource_for(object: &Value, gr: &str, catalog: &ResourceCatalog) -> Option<Arc<ResourceType>> {
    let api_version = object["apiVersion"].as_str()?;
    let kind = object["kind"].as_str()?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let served = catalog
        .by_group_kind(group, kind)
        .or_else(|| catalog.types.iter().find(|t| t.group_resource().to_string() == gr))?;
    let mut resource = served.clone();
    resource.version = version.to_owned();
    Some(Arc::new(resource))
}

/// What "identical" means for an existing object: the same spec, data and user metadata once
/// both sides are cleaned by the same rules (server-set fields and ark's own labels aside).
fn comparable(gr: &str, object: &Value) -> Value {
    let mut object = object.clone();
    let options = CleanOptions { preserve_node_ports: false, restore_status: Vec::new() };
    restore_rules::clean(gr, &mut object, &options);
    if gr == "serviceaccounts"
        && let Some(map) = object.as_object_mut()
    {
        // Token secrets are generated per cluster by the service account controller.
        map.remove("secrets");
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove("ark-restore");
            labels.remove("ark-backup");
        }
        meta.retain(|key, value| {
            !(matches!(key.as_str(), "labels" | "annotations") && value.as_object().is_some_and(|m| m.is_empty()))
        });
    }
    object
}

/// The JSON paths at which `a` and `b` differ (`spec.replicas`, `data.key`), depth first.
fn diff_paths(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    let child = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                diff_paths(x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null), &child(key), out);
            }
        }
        _ if a != b => out.push(if at.is_empty() { "(whole object)".to_owned() } else { at.to_owned() }),
        _ => {}
    }
}

/// The mappings as given on the command line, `old:new` pairs.
pub(crate) fn parse_mappings(pairs: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut mappings = BTreeMap::new();
    for pair in pairs {
        let (old, new) = pair
            .split_once(':')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
            .ok_or_else(|| format!("namespace mapping {pair:?} is not OLD:NEW"))?;
        ResourceName::parse(new).map_err(|e| format!("namespace mapping {pair:?}: {e}"))?;
        if mappings.insert(old.to_owned(), new.to_owned()).is_some() {
            return Err(format!("namespace {old} is mapped twice"));
        }
    }
    Ok(mappings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_written_as_they_come_read_back_whole() {
        let item = |name: &str, outcome, message: Option<&str>| ItemResult {
            resource: "configmaps".into(),
            namespace: Some("shop".into()),
            name: name.into(),
            outcome,
            message: message.map(str::to_owned),
        };
        let mut writer = ResultsWriter::new();
        writer.push(&item("a", ItemOutcome::Created, None));
        writer.push(&item("b", ItemOutcome::Failed, Some("denied")));
        writer.push(&item("c", ItemOutcome::ExistsDifferent, None));
        writer.error("", "CRD x never became Established".into());
        assert_eq!(writer.counts[&ItemOutcome::Created], 1);
        let results = writer.finish().decode().unwrap();
        assert_eq!(results.items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(results.errors["shop"], ["configmaps shop/b: denied"]);
        assert_eq!(results.errors[""], ["CRD x never became Established"]);
        assert_eq!(results.warnings["shop"], ["configmaps shop/c exists and differs from the backup"]);
        assert!(ResultsWriter::new().finish().decode().unwrap().items.is_empty());
    }

    #[test]
    fn mappings_parse_and_reject_bad_pairs() {
        let ok = parse_mappings(&["a:b".into(), "c:d".into()]).unwrap();
        assert_eq!(ok.get("a").map(String::as_str), Some("b"));
        for bad in ["a", "a:", ":b", "a:B_AD"] {
            assert!(parse_mappings(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_mappings(&["a:b".into(), "a:c".into()]).is_err());
    }

    #[test]
    fn comparison_ignores_server_fields_and_ark_labels() {
        let live = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "1", "resourceVersion": "9", "labels": {"ark-restore": "r", "ark-backup": "b"}},
            "data": {"k": "v"}});
        let backed_up = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "0", "resourceVersion": "3"}, "data": {"k": "v"}});
        assert_eq!(comparable("configmaps", &live), comparable("configmaps", &backed_up));
        let changed = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "w"}});
        assert_ne!(comparable("configmaps", &live), comparable("configmaps", &changed));
    }
}
