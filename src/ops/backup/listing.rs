//! Listing: every selected type LISTed at the backup's revision, a few pages at a time, each
//! page's objects filtered (namespaces, labels, the opt-out label) and sent on to the archive;
//! then the cluster-scoped objects the namespaced ones need. Also what listing learns on the
//! way: the volumes to snapshot and the types that could not be listed at the revision.
//!
//! The scheduler first fetches one page of every LIST (the small types entirely), then goes on
//! with the LIST that has the most work left, so that a big type does not finish alone while
//! the other connections idle.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::BackupError;
use super::events::{BackupEvent, RunReporter};
use super::pipeline::{ArchiveItem, ProgressTicker};
use super::scope::TypeSelection;
use crate::cluster::{ApiError, Connection, Pager};
use crate::config::Tuning;
use crate::model::{ClusterDependencies, EXCLUDE_LABEL, ResourceType, Scope, is_excluded_by_label};

/// Above this many namespaces in scope, one cluster-wide LIST per type (filtered here) is
/// cheaper than one LIST per namespace and type.
const PER_NAMESPACE_LIMIT: usize = 16;

/// Items in a whole-cluster LIST's first page.
const FIRST_PAGE: u32 = 50;

/// The parts of an object this layer looks at; everything else passes through untouched.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ItemHeader {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    pub(super) metadata: ItemMeta,
    #[serde(default)]
    spec: Option<ItemSpec>,
}

#[derive(Deserialize, Default)]
pub(super) struct ItemMeta {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemSpec {
    #[serde(default)]
    volume_name: Option<String>,
}

impl ItemHeader {
    fn into_item(self, resource: &Arc<ResourceType>, raw: &RawValue) -> ArchiveItem {
        let has_type_meta = self.api_version.is_some();
        ArchiveItem::listed(resource, self.metadata.namespace, self.metadata.name, raw, has_type_meta)
    }
}

/// The namespace list that fixes the revision every other type is listed at, with that revision.
pub(super) async fn list_namespaces(
    conn: &Connection,
    tuning: &Tuning,
) -> Result<(Vec<Box<RawValue>>, String), BackupError> {
    let namespaces = ResourceType::core("namespaces", "Namespace", false);
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

/// One LIST to run: a type, in one namespace or across all of them.
#[derive(Clone)]
struct ListJob {
    resource: Arc<ResourceType>,
    namespace: Option<String>,
    /// For cluster-scoped types backed up only as far as namespaced objects need them.
    only_names: Option<Arc<BTreeSet<String>>>,
}

impl ListJob {
    fn new(resource: &Arc<ResourceType>, namespace: Option<&String>) -> Self {
        Self { resource: Arc::clone(resource), namespace: namespace.cloned(), only_names: None }
    }
}

/// The LISTs of the selected types: namespaced types in each namespace or across all of them.
fn type_jobs(selection: &TypeSelection, namespaces: &BTreeSet<String>, per_namespace: bool) -> Vec<ListJob> {
    let mut jobs = Vec::new();
    for resource in &selection.namespaced {
        if per_namespace {
            jobs.extend(namespaces.iter().map(|ns| ListJob::new(resource, Some(ns))));
        } else {
            jobs.push(ListJob::new(resource, None));
        }
    }
    jobs.extend(selection.cluster.iter().map(|resource| ListJob::new(resource, None)));
    jobs
}

/// The LISTs of the cluster-scoped objects that the listed ones need, by name.
fn dependency_jobs(selection: &TypeSelection, needed: &ClusterDependencies) -> Vec<ListJob> {
    let mut jobs = Vec::new();
    if !selection.cluster_dependencies {
        return jobs;
    }
    for (resource, names) in [(&selection.persistent_volumes, &needed.volumes), (&selection.crds, &needed.crds)] {
        if let Some(resource) = resource
            && !names.is_empty()
        {
            let only_names = Some(Arc::new(names.clone()));
            jobs.push(ListJob { only_names, ..ListJob::new(resource, None) });
        }
    }
    jobs
}

/// Whole-cluster LISTs start with a small page when there are more of them than run at once:
/// most types end there, and the big ones say how big they are. Per-namespace LISTs are many
/// and small: full pages from the start.
fn first_page(jobs: &[ListJob], tuning: &Tuning) -> Option<u32> {
    (jobs.len() > tuning.list_concurrency && jobs.iter().all(|job| job.namespace.is_none()))
        .then_some(FIRST_PAGE.min(tuning.page_size))
}

/// What listing found beyond the objects themselves.
#[derive(Default)]
pub(super) struct ListFindings {
    /// The cluster-scoped objects the listed objects need.
    pub(super) needed: ClusterDependencies,
    /// The PersistentVolumes in the backup, whose disks are snapshotted.
    pub(super) volumes: Vec<serde_json::Value>,
    pub(super) not_at_revision: BTreeMap<String, String>,
    /// Objects left out by the opt-out label.
    pub(super) items_excluded: u64,
}

/// Everything the LISTs of one backup share.
pub(super) struct Lister<'a> {
    conn: &'a Connection,
    scope: &'a Scope,
    tuning: &'a Tuning,
    revision: String,
    namespaces: BTreeSet<String>,
    per_namespace: bool,
    /// Namespaces are filtered here (the LIST covered all of them).
    filter_namespaces: bool,
    label_selector_server_side: Option<String>,
    items_excluded: AtomicU64,
    items: mpsc::Sender<Vec<ArchiveItem>>,
    progress: ProgressTicker<'a>,
}

impl<'a> Lister<'a> {
    /// Lists at `revision` in `namespaces` (those of the scope), sending to `items`.
    pub(super) fn new(
        conn: &'a Connection,
        scope: &'a Scope,
        tuning: &'a Tuning,
        revision: String,
        namespaces: BTreeSet<String>,
        items: mpsc::Sender<Vec<ArchiveItem>>,
        progress: ProgressTicker<'a>,
    ) -> Self {
        let per_namespace = !scope.all_namespaces() && namespaces.len() <= PER_NAMESPACE_LIMIT;
        Self {
            conn,
            scope,
            tuning,
            revision,
            filter_namespaces: !scope.all_namespaces() && !per_namespace,
            per_namespace,
            namespaces,
            label_selector_server_side: scope.labels.server_side(),
            items_excluded: AtomicU64::new(0),
            items,
            progress,
        }
    }

    /// Lists everything the backup takes: the namespaces first, straight from the list that
    /// fixed the revision, then the selected types, then the cluster-scoped objects they need.
    /// The archive ends when this returns (the sender is dropped).
    pub(super) async fn list_all(
        self,
        selection: &TypeSelection,
        namespace_objects: Vec<(ItemHeader, Box<RawValue>)>,
        reporter: &mut RunReporter<'_>,
    ) -> ListFindings {
        let mut findings = ListFindings::default();
        if let Some(ns_type) = &selection.namespaces {
            // The list that fixed the revision took every namespace: the labels are checked here.
            let items: Vec<ArchiveItem> = namespace_objects
                .into_iter()
                .filter(|(_, raw)| self.keep(raw, false))
                .map(|(header, raw)| header.into_item(ns_type, &raw))
                .collect();
            if !items.is_empty() {
                findings.needed.add_type("namespaces");
                report_type(reporter, "namespaces", items.len() as u64);
                let _ = self.items.send(items).await;
            }
        }
        let jobs = type_jobs(selection, &self.namespaces, self.per_namespace);
        self.run_jobs(jobs, &mut findings, reporter).await;
        let jobs = dependency_jobs(selection, &findings.needed);
        self.run_jobs(jobs, &mut findings, reporter).await;
        findings.items_excluded = self.items_excluded.load(Ordering::Relaxed);
        findings
    }

    /// Runs LIST jobs, `listConcurrency` pages at once, sending what they find to the archive.
    async fn run_jobs(&self, jobs: Vec<ListJob>, findings: &mut ListFindings, reporter: &mut RunReporter<'_>) {
        let mut tally = TypeTally::default();
        for job in &jobs {
            *tally.lists_left.entry(job.resource.group_resource().to_string()).or_default() += 1;
        }
        let first_page = first_page(&jobs, self.tuning);
        let mut unstarted: VecDeque<ListJob> = jobs.into();
        let mut waiting: Vec<Listing<'_>> = Vec::new();
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.tuning.list_concurrency {
                let next = if let Some(job) = unstarted.pop_front() {
                    self.start(job, first_page)
                } else if let Some(k) = most_work_left(waiting.iter().map(Listing::progress_now)) {
                    waiting.swap_remove(k)
                } else {
                    break;
                };
                in_flight.push(self.list_page(next, reporter.log));
            }
            let Some((listing, outcome)) = in_flight.next().await else { break };
            match outcome {
                Ok(true) => waiting.push(listing),
                Ok(false) => self.finish_job(listing, Ok(()), &mut tally, findings, reporter),
                Err(e) => self.finish_job(listing, Err(e), &mut tally, findings, reporter),
            }
        }
    }

    fn start(&self, job: ListJob, first_page: Option<u32>) -> Listing<'a> {
        let selector = if job.only_names.is_some() { None } else { self.label_selector_server_side.clone() };
        let pager = Pager::new(
            &self.conn.client,
            &job.resource,
            job.namespace.as_deref(),
            selector,
            Some(self.revision.clone()),
            self.tuning.page_size,
        );
        let pager = match first_page {
            Some(size) => pager.with_first_page(size),
            None => pager,
        };
        Listing { job, pager, found: JobResult::default(), progress: ListProgress::default() }
    }

    /// Records how a LIST ended, and reports its type once its last LIST is done.
    fn finish_job(
        &self,
        listing: Listing<'_>,
        outcome: Result<(), ApiError>,
        tally: &mut TypeTally,
        findings: &mut ListFindings,
        reporter: &mut RunReporter<'_>,
    ) {
        let Listing { job, pager, found, .. } = listing;
        let gr = job.resource.group_resource().to_string();
        match outcome {
            Ok(()) => {
                *tally.items.entry(gr.clone()).or_default() += found.items;
                if found.items > 0 {
                    findings.needed.add_type(&gr);
                }
                for volume in &found.bound_volumes {
                    findings.needed.add_claimed_volume(volume);
                }
                findings.volumes.extend(found.volumes);
                if let Some(reason) = pager.fallback_reason {
                    reporter.log.warn(&format!("{gr} was listed as it is now, not at the backup's revision: {reason}"));
                    findings.not_at_revision.insert(gr.clone(), reason);
                }
            }
            // A type that went away since discovery (its CRD was deleted): nothing to back up.
            Err(e) if e.is_not_found() => {
                reporter.warn_once(format!("{gr} is no longer served (deleted during the backup); skipped"));
            }
            Err(e) => {
                let where_ = job.namespace.as_ref().map(|ns| format!(" in namespace {ns}")).unwrap_or_default();
                reporter.error(format!("list {gr}{where_}: {}", e.message));
            }
        }
        let left = tally.lists_left.get_mut(&gr).map(|n| {
            *n -= 1;
            *n
        });
        if left == Some(0) {
            report_type(reporter, &gr, tally.items.get(&gr).copied().unwrap_or(0));
        }
    }

    /// Fetches the next page of a LIST and sends what it keeps to the archive; says whether
    /// there is more to fetch.
    async fn list_page(
        &self,
        mut listing: Listing<'a>,
        log: &crate::ops::run_log::RunLog,
    ) -> (Listing<'a>, Result<bool, ApiError>) {
        let started = Instant::now();
        let page = match listing.pager.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => return (listing, Ok(false)),
            Err(e) => return (listing, Err(e)),
        };
        listing.progress.seconds += started.elapsed().as_secs_f64();
        listing.progress.listed += page.len() as u64;
        let Listing { job, found, .. } = &mut listing;
        let resource = &job.resource;
        let is_pvc = resource.group.is_empty() && resource.resource == "persistentvolumeclaims";
        let is_pv = resource.group.is_empty() && resource.resource == "persistentvolumes";
        let mut batch = Vec::with_capacity(page.len());
        for raw in page {
            let Ok(header) = serde_json::from_str::<ItemHeader>(raw.get()) else {
                log.warn(&format!("skipped an undecodable {} object", resource.group_resource()));
                continue;
            };
            if !self.takes(job, &header, &raw) {
                continue;
            }
            if is_pvc && let Some(volume) = header.spec.as_ref().and_then(|s| s.volume_name.clone()) {
                found.bound_volumes.push(volume);
            }
            if is_pv && let Ok(pv) = serde_json::from_str(raw.get()) {
                found.volumes.push(pv);
            }
            batch.push(header.into_item(resource, &raw));
        }
        found.items += batch.len() as u64;
        if !batch.is_empty() && self.items.send(batch).await.is_err() {
            // The writer stopped; its own error says why. Nothing more to list.
            return (listing, Ok(false));
        }
        self.progress.tick();
        let more = !listing.pager.is_done();
        (listing, Ok(more))
    }

    /// Whether a listed object belongs in the backup: one of the names a dependency LIST
    /// looks for, or an object in the scope's namespaces and labels.
    fn takes(&self, job: &ListJob, header: &ItemHeader, raw: &RawValue) -> bool {
        if let Some(names) = &job.only_names {
            return names.contains(&header.metadata.name);
        }
        let outside = self.filter_namespaces
            && job.resource.namespaced
            && !header.metadata.namespace.as_ref().is_some_and(|ns| self.namespaces.contains(ns));
        !outside && self.keep(raw, true)
    }

    /// Whether an object passes the labels and the opt-out label; `selected` when it was listed
    /// with the label selector, which the server then applied.
    fn keep(&self, raw: &RawValue, selected: bool) -> bool {
        if is_excluded_by_label_raw(raw) {
            self.items_excluded.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let labels = &self.scope.labels;
        if (selected && self.label_selector_server_side.is_some()) || *labels == Default::default() {
            return true;
        }
        serde_json::from_str::<serde_json::Value>(raw.get()).is_ok_and(|v| labels.matches_object(&v))
    }
}

fn is_excluded_by_label_raw(raw: &RawValue) -> bool {
    // Cheap pre-check: parse only objects that mention the label at all.
    raw.get().contains(EXCLUDE_LABEL)
        && serde_json::from_str::<serde_json::Value>(raw.get()).is_ok_and(|v| is_excluded_by_label(&v))
}

fn report_type(reporter: &RunReporter<'_>, group_resource: &str, items: u64) {
    reporter.log.info(&format!("backed up {items} {group_resource}"));
    reporter.observer.on_event(BackupEvent::TypeListed { group_resource: group_resource.to_owned(), items });
}

/// Per type: the objects its LISTs found, and how many of its LISTs are still to finish.
#[derive(Default)]
struct TypeTally {
    items: BTreeMap<String, u64>,
    lists_left: BTreeMap<String, usize>,
}

/// One LIST under way: its pager, what it found so far, and how fast its pages came.
struct Listing<'a> {
    job: ListJob,
    pager: Pager<'a>,
    found: JobResult,
    progress: ListProgress,
}

impl Listing<'_> {
    fn progress_now(&self) -> ListProgress {
        ListProgress { remaining: self.pager.remaining(), ..self.progress }
    }
}

#[derive(Default)]
struct JobResult {
    items: u64,
    bound_volumes: Vec<String>,
    volumes: Vec<serde_json::Value>,
}

/// How far one LIST has got: what the scheduler orders waiting LISTs by.
#[derive(Debug, Clone, Copy, Default)]
struct ListProgress {
    /// Objects left, when the server says (unknown counts as very many).
    remaining: Option<u64>,
    /// Seconds its pages took and the objects they held: custom resources cost the apiserver
    /// several times what built-in objects do, so counts alone would order them wrongly.
    seconds: f64,
    listed: u64,
}

impl ListProgress {
    /// Remaining objects times seconds per object so far.
    fn work_left(&self) -> f64 {
        self.remaining.unwrap_or(u64::MAX / 2) as f64 * self.seconds / self.listed.max(1) as f64
    }
}

/// The waiting LIST with the most work left.
fn most_work_left(waiting: impl Iterator<Item = ListProgress>) -> Option<usize> {
    let work: Vec<f64> = waiting.map(|p| p.work_left()).collect();
    (0..work.len()).max_by(|&a, &b| work[a].total_cmp(&work[b]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(remaining: Option<u64>, seconds: f64, listed: u64) -> ListProgress {
        ListProgress { remaining, seconds, listed }
    }

    #[test]
    fn the_list_with_the_most_work_left_goes_on_first() {
        assert_eq!(most_work_left(std::iter::empty()), None);
        // 1,000 configmaps left at 1 ms each, 200 custom resources at 10 ms each: the latter.
        let waiting = [progress(Some(1000), 0.05, 50), progress(Some(200), 0.5, 50), progress(Some(10), 0.5, 50)];
        assert_eq!(most_work_left(waiting.into_iter()), Some(1));
        // A LIST that does not say how much is left counts as the biggest.
        let waiting = [progress(Some(100_000), 1.0, 50), progress(None, 0.01, 50)];
        assert_eq!(most_work_left(waiting.into_iter()), Some(1));
    }

    fn selection(namespaced: &[&str], cluster: &[&str], dependencies: bool) -> TypeSelection {
        let types = |names: &[&str], namespaced: bool| {
            names.iter().map(|n| Arc::new(ResourceType::for_tests("", n, "K", namespaced))).collect()
        };
        TypeSelection {
            namespaced: types(namespaced, true),
            cluster: types(cluster, false),
            cluster_dependencies: dependencies,
            namespaces: None,
            persistent_volumes: Some(Arc::new(ResourceType::core("persistentvolumes", "PersistentVolume", false))),
            crds: None,
        }
    }

    fn described(jobs: &[ListJob]) -> Vec<String> {
        jobs.iter().map(|j| format!("{}@{}", j.resource.resource, j.namespace.as_deref().unwrap_or("*"))).collect()
    }

    #[test]
    fn few_namespaces_are_listed_one_by_one_and_many_at_once() {
        let selection = selection(&["configmaps", "secrets"], &["clusterroles"], false);
        let namespaces: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        let per_namespace = type_jobs(&selection, &namespaces, true);
        assert_eq!(
            described(&per_namespace),
            ["configmaps@a", "configmaps@b", "secrets@a", "secrets@b", "clusterroles@*"]
        );
        let at_once = type_jobs(&selection, &namespaces, false);
        assert_eq!(described(&at_once), ["configmaps@*", "secrets@*", "clusterroles@*"]);

        let tuning = Tuning { list_concurrency: 2, ..Tuning::default() };
        assert_eq!(first_page(&at_once, &tuning), Some(FIRST_PAGE), "more whole-cluster LISTs than run at once");
        assert_eq!(first_page(&per_namespace, &tuning), None, "per-namespace LISTs take full pages");
        assert_eq!(first_page(&at_once[..2], &tuning), None, "as many as run at once");
    }

    #[test]
    fn dependencies_are_listed_by_name_when_the_scope_takes_them() {
        let mut needed = ClusterDependencies::default();
        assert!(dependency_jobs(&selection(&[], &[], true), &needed).is_empty(), "nothing needed");
        needed.add_claimed_volume("pv-1");
        let jobs = dependency_jobs(&selection(&[], &[], true), &needed);
        assert_eq!(described(&jobs), ["persistentvolumes@*"]);
        assert_eq!(jobs[0].only_names.as_deref(), Some(&BTreeSet::from(["pv-1".to_owned()])));
        assert!(dependency_jobs(&selection(&[], &[], false), &needed).is_empty(), "not asked for");
    }
}
