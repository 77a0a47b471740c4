//! The tier loop: the archive's types in restore order, each type's objects decoded, checked
//! against the scope, cleaned and remapped by the rules, then created in parallel; a namespace
//! made (or waited for) before its first object, the CRDs waited on until Established before
//! their custom resources. Every object gets an outcome, written to the results as it comes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::results::{ResultsWriter, what};
use super::rules::{self, CleanOptions};
use super::spool::Spool;
use super::{RestoreEvent, RestoreFailure, RestoreObserver};
use crate::cluster::{
    ApiError, Connection, CrdState, NamespaceError, ResourceCatalog, crd_established, discover, ensure_namespace,
    objects,
};
use crate::config::Tuning;
use crate::model::{
    CRDS, ClusterDependencies, ExistingPolicy, GroupResource, ItemOutcome, ItemResult, OutOfScope, ResourceType,
    RestoreSpec,
};
use crate::ops::run_log::RunLog;
use crate::ops::volumes::{RestoreTarget, VolumeRestore};

/// Objects read from the spool, and prepared, at a time.
const BATCH: usize = 256;

/// Everything the tiers of one restore share.
pub(super) struct Restorer<'a> {
    pub(super) conn: &'a Connection,
    pub(super) spec: &'a RestoreSpec,
    pub(super) tuning: &'a Tuning,
    pub(super) observer: &'a dyn RestoreObserver,
    pub(super) log: &'a RunLog,
    pub(super) restore: &'a str,
    pub(super) wait_timeout: Duration,
    pub(super) fail_fast: bool,
    pub(super) volumes: VolumeRestore,
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

impl Prepared {
    fn result(&self, outcome: ItemOutcome, message: Option<String>) -> ItemResult {
        ItemResult {
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            outcome,
            message,
        }
    }
}

/// What the tiers so far have made ready.
#[derive(Default)]
struct Progress {
    /// Namespaces that exist (or were waited for) already.
    namespaces: BTreeSet<String>,
}

impl Restorer<'_> {
    /// Restores every type of the spool in order; an `Err` ends the restore Failed.
    pub(super) async fn restore_all(
        &self,
        spool: &Spool,
        mut catalog: ResourceCatalog,
        results: &mut ResultsWriter,
    ) -> Result<(), RestoreFailure> {
        let priorities: Vec<String> = if self.spec.resource_priorities.is_empty() {
            rules::DEFAULT_PRIORITIES.iter().map(|s| s.to_string()).collect()
        } else {
            self.spec.resource_priorities.clone()
        };
        let mut tiers: Vec<(&str, u64)> = spool.types().collect();
        tiers.sort_by_key(|(gr, _)| (rules::priority(gr, &priorities), gr.to_string()));
        let needed = self.dependencies(spool)?;
        let mut progress = Progress::default();
        for (gr, count) in tiers {
            if !self.resource_wanted(gr, &catalog) {
                self.log.info(&format!("{gr}: {count} objects left out by the resource filter"));
                continue;
            }
            self.observer.on_event(RestoreEvent::Tier { resource: gr.to_owned(), items: count });
            let created_crds = self.restore_tier(spool, gr, &catalog, &needed, &mut progress, results).await?;
            if gr == CRDS {
                self.wait_established(&created_crds, results).await;
                // The new CRDs' types must be known before their objects come.
                catalog = discover(&self.conn.client).await.map_err(RestoreFailure::Discovery)?;
            }
        }
        Ok(())
    }

    /// Restores the objects of one type, a batch at a time; returns the CRDs it created.
    async fn restore_tier(
        &self,
        spool: &Spool,
        gr: &str,
        catalog: &ResourceCatalog,
        needed: &ClusterDependencies,
        progress: &mut Progress,
        results: &mut ResultsWriter,
    ) -> Result<Vec<String>, RestoreFailure> {
        let mut reader = spool.reader(gr).map_err(RestoreFailure::Spool)?;
        let mut created_crds = Vec::new();
        loop {
            let batch = reader.next_batch(BATCH).map_err(RestoreFailure::ReadSpool)?;
            if batch.is_empty() {
                return Ok(created_crds);
            }
            let mut prepared = Vec::new();
            for body in batch {
                match self.prepare(gr, &body, needed) {
                    Ok(p) => prepared.push(p),
                    Err(result) => self.record(results, result),
                }
            }
            for ns in prepared.iter().filter_map(|p| p.namespace.clone()).collect::<BTreeSet<_>>() {
                if gr != "namespaces" && !progress.namespaces.contains(&ns) {
                    if let Err(message) = self.ensure_namespace(&ns).await {
                        self.log.error(&message);
                        results.error(&ns, message);
                    }
                    progress.namespaces.insert(ns);
                }
            }
            let outcomes: Vec<ItemResult> = futures::stream::iter(prepared)
                .map(|p| async {
                    match self.recreate_volume(p).await {
                        Ok(p) => self.restore_one(p, catalog).await,
                        Err(failed) => failed,
                    }
                })
                .buffer_unordered(self.tuning.restore_concurrency)
                .collect()
                .await;
            let first_failure = outcomes
                .iter()
                .find(|r| r.outcome == ItemOutcome::Failed)
                .map(|r| format!("{}: {}", what(r), r.message.as_deref().unwrap_or("failed")));
            for result in outcomes {
                if gr == CRDS && matches!(result.outcome, ItemOutcome::Created) {
                    created_crds.push(result.name.clone());
                }
                if gr == "namespaces" && !matches!(result.outcome, ItemOutcome::Failed | ItemOutcome::Skipped) {
                    progress.namespaces.insert(result.name.clone());
                }
                self.record(results, result);
            }
            if let (true, Some(failure)) = (self.fail_fast, first_failure) {
                return Err(RestoreFailure::FailFast(failure));
            }
        }
    }

    fn record(&self, results: &mut ResultsWriter, result: ItemResult) {
        let message = result.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default();
        let line = format!("{:?} {}{message}", result.outcome, what(&result));
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
    fn dependencies(&self, spool: &Spool) -> Result<ClusterDependencies, RestoreFailure> {
        let mut needed = ClusterDependencies::default();
        if !self.spec.scope.takes_dependencies() {
            return Ok(needed);
        }
        for (gr, _) in spool.types() {
            needed.add_type(gr);
        }
        let mut reader = spool.reader("persistentvolumeclaims").map_err(RestoreFailure::Spool)?;
        loop {
            let batch = reader.next_batch(2 * BATCH).map_err(RestoreFailure::ReadSpool)?;
            if batch.is_empty() {
                return Ok(needed);
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
        let listed = Prepared { resource: gr.to_owned(), namespace, name, object: Value::Null, note: None };
        let skipped = |reason: &str| listed.result(ItemOutcome::Skipped, Some(reason.to_owned()));
        match self.spec.scope.admits(gr, listed.namespace.as_deref(), &listed.name, needed) {
            Ok(()) => {}
            Err(OutOfScope::Namespace) => return Err(skipped("namespace not in the restore")),
            Err(OutOfScope::ClusterScoped) => return Err(skipped("cluster-scoped object not in the restore")),
        }
        if gr != "namespaces" && !self.spec.scope.labels.matches_object(&object) {
            return Err(skipped("does not match the label selector"));
        }
        if let Some(reason) = rules::skip_reason(gr, &object) {
            return Err(skipped(&reason.to_string()));
        }
        let options = CleanOptions {
            preserve_node_ports: self.spec.preserve_node_ports,
            restore_status: self.spec.restore_status.clone(),
        };
        rules::clean(gr, &mut object, &options);
        rules::remap_namespaces(gr, &mut object, &self.spec.namespace_mappings);
        if gr == "persistentvolumeclaims"
            && let Some(renamed) = object["spec"]["volumeName"].as_str().and_then(|v| self.volumes.renamed(v))
        {
            object["spec"]["volumeName"] = Value::String(renamed);
        }
        rules::add_restore_labels(&mut object, self.restore, self.spec.backup.as_str());
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        Ok(Prepared { resource: gr.to_owned(), namespace, name, object, note: None })
    }

    /// A PV whose disk was snapshotted gets a new volume made from the snapshot (see
    /// `VolumeRestore::recreate`); an `Err` is its final result.
    async fn recreate_volume(&self, mut p: Prepared) -> Result<Prepared, ItemResult> {
        if p.resource != "persistentvolumes" {
            return Ok(p);
        }
        let target = RestoreTarget {
            restore: self.restore,
            backup: self.spec.backup.as_str(),
            zone: self.spec.volume_az.as_deref(),
            namespace_mappings: &self.spec.namespace_mappings,
            timeout: self.tuning.snapshot_timeout.0,
        };
        match self.volumes.recreate(&self.conn.client, &mut p.object, &target, self.log).await {
            Ok(note) => {
                p.name = p.object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                p.note = note;
                Ok(p)
            }
            Err(message) => Err(ItemResult { namespace: None, ..p.result(ItemOutcome::Failed, Some(message)) }),
        }
    }

    async fn restore_one(&self, p: Prepared, catalog: &ResourceCatalog) -> ItemResult {
        let Some(resource) = resource_for(&p.object, &p.resource, catalog) else {
            return p.result(ItemOutcome::Failed, Some(format!("the cluster does not serve {}", p.resource)));
        };
        let collection = resource.collection_path(p.namespace.as_deref());
        let dry_run = self.spec.dry_run;
        match objects::create(&self.conn.client, &collection, &p.object, dry_run).await {
            Ok(()) => {
                let outcome = if dry_run { ItemOutcome::WouldCreate } else { ItemOutcome::Created };
                p.result(outcome, p.note.clone())
            }
            Err(e) if e.is_already_exists() => {
                let path = format!("{collection}/{}", p.name);
                match self.existing(&path, &p, dry_run).await {
                    Ok((outcome, message)) => p.result(outcome, message),
                    Err(e) => p.result(ItemOutcome::Failed, Some(e.message)),
                }
            }
            // The namespace does not exist yet; a real restore creates it first.
            Err(e) if dry_run && e.is_not_found() && p.namespace.is_some() => {
                let message = "its namespace would be created first; not checked by the server";
                p.result(ItemOutcome::WouldCreate, Some(message.into()))
            }
            Err(e) => p.result(ItemOutcome::Failed, Some(e.message)),
        }
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
        let differences =
            rules::diff_paths(&rules::comparable(&p.resource, &p.object), &rules::comparable(&p.resource, &live));
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
    /// that is still Terminating. An `Err` says what went wrong, for the results.
    async fn ensure_namespace(&self, namespace: &str) -> Result<(), String> {
        let mut object = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        rules::add_restore_labels(&mut object, self.restore, self.spec.backup.as_str());
        match ensure_namespace(&self.conn.client, &object, self.spec.dry_run, self.wait_timeout).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "namespace {namespace} is still Terminating after {}s; wait for it to go, or restore into another namespace with --namespace-mappings",
                self.wait_timeout.as_secs()
            )),
            Err(NamespaceError::Create(e)) => Err(format!("create namespace {namespace}: {}", e.message)),
            Err(NamespaceError::Read(e)) => Err(format!("read namespace {namespace}: {}", e.message)),
        }
    }

    /// Waits for the CRDs the restore created to become Established; one that does not is an
    /// error of the restore (its custom resources fail on their own).
    async fn wait_established(&self, crds: &[String], results: &mut ResultsWriter) {
        for crd in crds {
            let message = match crd_established(&self.conn.client, crd, self.wait_timeout).await {
                Ok(CrdState::Established) => continue,
                Ok(CrdState::NotEstablished(unmet)) => {
                    let why = if unmet.is_empty() { String::new() } else { format!(" ({})", unmet.join("; ")) };
                    format!(
                        "CRD {crd} did not become Established within {}s{why}; its custom resources will fail",
                        self.wait_timeout.as_secs()
                    )
                }
                Err(e) => format!("read CRD {crd}: {}", e.message),
            };
            self.log.error(&message);
            results.error("", message);
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
