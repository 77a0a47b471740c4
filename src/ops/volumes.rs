//! Persistent volumes' data in backups and restores: snapshot every PV a backup holds and wait
//! until the snapshots are complete; at restore, make new volumes from them and point the
//! restored PVs at them; delete the snapshots with their backup.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::run_log::RunLog;
use crate::cluster::objects;
use crate::config::SnapshotLocation;
use crate::model::{ResourceName, SnapshotPhase, VolumeNotSnapshotted, VolumeSnapshot, short_hash};
use crate::poll::{Pauses, Polling};
use crate::snapshot::{self, SnapshotError, SnapshotState, VolumeSnapshotter};

/// Snapshots started at once (EC2 throttles CreateSnapshot per account).
const CONCURRENCY: usize = 4;

/// A volume snapshot location, opened and checked.
pub(crate) struct Snapshots {
    pub(crate) location: ResourceName,
    provider: &'static str,
    snapshotter: Box<dyn VolumeSnapshotter>,
}

impl Snapshots {
    /// Opens the location and checks that its region, endpoint and credentials work, so that a
    /// backup or restore that needs it fails before it starts rather than halfway.
    pub(crate) async fn open(location: ResourceName, config: &SnapshotLocation) -> Result<Self, SnapshotError> {
        let snapshotter = snapshot::open(config).await;
        snapshotter.check().await.map_err(|e| SnapshotError {
            op: format!("volume snapshot location {location}: {}", e.op),
            message: e.message,
            not_found: false,
        })?;
        Ok(Self { location, provider: "aws", snapshotter })
    }

    /// Opens the location the config calls `location`; `None` when the config has no such one.
    pub(crate) async fn open_configured(
        location: &str,
        configured: &BTreeMap<ResourceName, SnapshotLocation>,
    ) -> Option<Result<Self, SnapshotError>> {
        let name = ResourceName::parse(location).ok()?;
        let config = configured.get(&name)?;
        Some(Self::open(name, config).await)
    }
}

/// What snapshotting a backup's volumes came to.
#[derive(Debug, Default)]
pub(crate) struct VolumeReport {
    pub(crate) snapshots: Vec<VolumeSnapshot>,
    pub(crate) not_snapshotted: Vec<VolumeNotSnapshotted>,
    pub(crate) errors: Vec<String>,
}

impl VolumeReport {
    /// The report of a backup that takes no snapshots: every PV is one not snapshotted.
    pub(crate) fn not_taken(pvs: &[Value]) -> Self {
        let not_snapshotted = pvs
            .iter()
            .map(|pv| VolumeNotSnapshotted {
                persistent_volume: pv["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                reason: "volume snapshots are off for this backup".to_owned(),
            })
            .collect();
        Self { not_snapshotted, ..Self::default() }
    }
}

/// Progress while waiting for snapshots: how many are complete out of how many.
pub(crate) type OnProgress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// Snapshots every EBS volume behind `pvs`, tags each snapshot, and waits until all are
/// complete (or failed, or `timeout` passed). PVs that are not EBS volumes are reported with the
/// reason, and failures name their PV.
pub(crate) async fn snapshot_volumes(
    snapshots: &Snapshots,
    pvs: &[Value],
    tags: &BTreeMap<String, String>,
    timeout: Duration,
    log: &RunLog,
    on_progress: OnProgress<'_>,
) -> VolumeReport {
    let mut report = VolumeReport::default();
    let mut disks = Vec::new();
    for pv in pvs {
        let name = pv["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        match snapshot::disk_of(pv) {
            Ok(disk) => disks.push((name, disk)),
            Err(reason) => {
                log.info(&format!("persistent volume {name} not snapshotted: {reason}"));
                report.not_snapshotted.push(VolumeNotSnapshotted { persistent_volume: name, reason });
            }
        }
    }
    let started: Vec<VolumeSnapshot> = futures::stream::iter(disks)
        .map(|(pv, disk)| start_snapshot(snapshots, pv, disk, tags, log))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    report.snapshots = started;
    wait_completed(snapshots, &mut report.snapshots, timeout, log, on_progress).await;
    report.snapshots.sort_by(|a, b| a.persistent_volume.cmp(&b.persistent_volume));
    for s in report.snapshots.iter().filter(|s| s.phase == SnapshotPhase::Failed) {
        report.errors.push(format!(
            "persistent volume {}: snapshot of {} failed: {}",
            s.persistent_volume,
            s.volume_id,
            s.error.as_deref().unwrap_or("unknown error")
        ));
    }
    report
}

async fn start_snapshot(
    snapshots: &Snapshots,
    pv: String,
    disk: snapshot::DiskRef,
    tags: &BTreeMap<String, String>,
    log: &RunLog,
) -> VolumeSnapshot {
    let mut record = VolumeSnapshot {
        persistent_volume: pv.clone(),
        provider: snapshots.provider.to_owned(),
        location: snapshots.location.to_string(),
        volume_id: disk.volume_id.clone(),
        availability_zone: disk.zone.clone().unwrap_or_default(),
        volume_type: None,
        iops: None,
        throughput: None,
        encrypted: false,
        kms_key_id: None,
        size_gib: None,
        snapshot_id: String::new(),
        phase: SnapshotPhase::Failed,
        error: None,
    };
    let volume = match snapshots.snapshotter.describe_volume(&disk.volume_id).await {
        Ok(volume) => volume,
        Err(e) => {
            record.error = Some(e.to_string());
            return record;
        }
    };
    if record.availability_zone.is_empty() {
        record.availability_zone = volume.availability_zone.clone();
    }
    record.volume_type = volume.volume_type.clone();
    record.iops = volume.iops;
    record.throughput = volume.throughput;
    record.encrypted = volume.encrypted;
    record.kms_key_id = volume.kms_key_id.clone();
    record.size_gib = volume.size_gib;
    let mut all_tags = volume.tags.clone();
    all_tags.extend(tags.clone());
    all_tags.insert("ark.heptio.com/pv".into(), pv.clone());
    match snapshots.snapshotter.create_snapshot(&volume, &all_tags).await {
        Ok(id) => {
            log.info(&format!("persistent volume {pv}: snapshot {id} of {} started", disk.volume_id));
            record.snapshot_id = id;
        }
        Err(e) => record.error = Some(e.to_string()),
    }
    record
}

/// Polls until every started snapshot (one without an error) is complete or failed; those
/// still pending at the timeout fail.
async fn wait_completed(
    snapshots: &Snapshots,
    records: &mut [VolumeSnapshot],
    timeout: Duration,
    log: &RunLog,
    on_progress: OnProgress<'_>,
) {
    let total = records.len();
    let mut pending: Vec<usize> = (0..total).filter(|&i| records[i].error.is_none()).collect();
    let mut polling = Polling::new(timeout, Pauses::doubling(Duration::from_millis(500), Duration::from_secs(15)));
    while !pending.is_empty() {
        on_progress(total - pending.len(), total);
        let ids: Vec<String> = pending.iter().map(|&i| records[i].snapshot_id.clone()).collect();
        let states = snapshots.snapshotter.snapshot_states(&ids).await.unwrap_or_else(|e| {
            log.warn(&format!("checking snapshots: {e}; retrying"));
            BTreeMap::new()
        });
        pending.retain(|&i| {
            let record = &mut records[i];
            match states.get(&record.snapshot_id) {
                Some(SnapshotState::Completed) => {
                    log.info(&format!(
                        "persistent volume {}: snapshot {} completed",
                        record.persistent_volume, record.snapshot_id
                    ));
                    record.phase = SnapshotPhase::Completed;
                    false
                }
                Some(SnapshotState::Failed(message)) => {
                    record.error = Some(message.clone());
                    false
                }
                _ => true,
            }
        });
        if !pending.is_empty() && !polling.again().await {
            for &i in &pending {
                records[i].error = Some(format!("not completed within {}s", timeout.as_secs()));
            }
            pending.clear();
        }
    }
    on_progress(total, total);
}

/// Makes a new volume from a snapshot in `zone` and waits until it is available; returns its id.
pub(crate) async fn restore_volume(
    snapshots: &Snapshots,
    snapshot: &VolumeSnapshot,
    zone: &str,
    tags: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<String, SnapshotError> {
    let id = snapshots.snapshotter.create_volume(snapshot, zone, tags).await?;
    let mut polling = Polling::new(timeout, Pauses::doubling(Duration::from_millis(500), Duration::from_secs(10)));
    while !snapshots.snapshotter.volume_available(&id).await? {
        if !polling.again().await {
            return Err(SnapshotError {
                op: format!("wait for EBS volume {id}"),
                message: format!("not available within {}s", timeout.as_secs()),
                not_found: false,
            });
        }
    }
    Ok(id)
}

/// A restore's new volumes: the backup's completed snapshots by PV name, their locations
/// opened, and the PVs restored under a new name (their claims follow them).
#[derive(Default)]
pub(crate) struct VolumeRestore {
    snapshots: BTreeMap<String, VolumeSnapshot>,
    locations: BTreeMap<String, Snapshots>,
    renamed: Mutex<BTreeMap<String, String>>,
}

/// What a restore is, for the volumes it makes.
pub(crate) struct RestoreTarget<'a> {
    pub(crate) restore: &'a str,
    pub(crate) backup: &'a str,
    /// Where to make the volumes (default: the zone each was snapshotted in).
    pub(crate) zone: Option<&'a str>,
    pub(crate) namespace_mappings: &'a BTreeMap<String, String>,
    pub(crate) timeout: Duration,
}

impl VolumeRestore {
    /// The completed ones of `snapshots`, with their locations opened. `Err(Ok(name))` names a
    /// location the config does not have.
    pub(crate) async fn open(
        snapshots: Vec<VolumeSnapshot>,
        configured: &BTreeMap<ResourceName, SnapshotLocation>,
    ) -> Result<Self, Result<String, SnapshotError>> {
        let mut restore = Self::default();
        for snapshot in snapshots.into_iter().filter(|s| s.phase == SnapshotPhase::Completed) {
            if !restore.locations.contains_key(&snapshot.location) {
                let opened = Snapshots::open_configured(&snapshot.location, configured)
                    .await
                    .ok_or_else(|| Ok(snapshot.location.clone()))?
                    .map_err(Err)?;
                restore.locations.insert(snapshot.location.clone(), opened);
            }
            restore.snapshots.insert(snapshot.persistent_volume.clone(), snapshot);
        }
        Ok(restore)
    }

    /// The name the PV `volume` was restored under, when it got a new one.
    pub(crate) fn renamed(&self, volume: &str) -> Option<String> {
        self.renamed.lock().ok()?.get(volume).cloned()
    }

    /// For a PV whose disk was snapshotted: makes a new volume from the snapshot and points the
    /// PV at it. It keeps its name unless that is taken (the original PV still exists) or its
    /// claim moved to another namespace; then it gets a new one, which its PVC follows. A PV
    /// whose claim is already back in the cluster is left to the usual handling of existing
    /// objects, so that running a restore twice makes no second volume. Returns what was done,
    /// for the PV's result; None when the PV is restored as it is.
    pub(crate) async fn recreate(
        &self,
        client: &kube::Client,
        pv: &mut Value,
        target: &RestoreTarget<'_>,
        log: &RunLog,
    ) -> Result<Option<String>, String> {
        let name = pv["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let Some(snapshot) = self.snapshots.get(&name) else { return Ok(None) };
        let exists = async |path: String| match objects::get(client, &path).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e.message),
        };
        let pv_exists = exists(format!("/api/v1/persistentvolumes/{name}")).await?;
        let claim = &pv["spec"]["claimRef"];
        let (claim_ns, claim_name) = (claim["namespace"].as_str(), claim["name"].as_str());
        if let (Some(ns), Some(claim_name)) = (claim_ns, claim_name)
            && pv_exists
            && exists(format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim_name}")).await?
        {
            return Ok(None);
        }
        let moved = claim_ns.is_some_and(|ns| target.namespace_mappings.values().any(|new| new == ns));
        let zone = target.zone.unwrap_or(&snapshot.availability_zone).to_owned();
        let tags = BTreeMap::from([
            ("ark.heptio.com/restore".to_owned(), target.restore.to_owned()),
            ("ark.heptio.com/backup".to_owned(), target.backup.to_owned()),
            ("ark.heptio.com/pv".to_owned(), name.clone()),
        ]);
        let location = &self.locations[&snapshot.location];
        let volume =
            restore_volume(location, snapshot, &zone, &tags, target.timeout).await.map_err(|e| e.to_string())?;
        snapshot::point_at_volume(pv, &volume, &zone);
        let mut note = format!("new volume {volume} from snapshot {}", snapshot.snapshot_id);
        if pv_exists || moved {
            let new_name = renamed_volume(&name, target.restore);
            note.push_str(&format!(", restored as {new_name}"));
            if let Ok(mut renamed) = self.renamed.lock() {
                renamed.insert(name.clone(), new_name.clone());
            }
            pv["metadata"]["name"] = Value::String(new_name);
        }
        log.info(&format!("persistent volume {}: {note}", snapshot.persistent_volume));
        Ok(Some(note))
    }
}

/// The name a restored PersistentVolume gets when its own name is taken: the original name with
/// a suffix derived from the restore, so that running the same restore again gives the same name.
fn renamed_volume(original: &str, restore: &str) -> String {
    let head: String = original.chars().take(240).collect();
    format!("{head}-{}", short_hash(&format!("{restore}/{original}")))
}

/// Deletes the snapshots of a backup; ones already gone count as deleted.
pub(crate) async fn delete_snapshots(
    records: &[VolumeSnapshot],
    locations: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<usize, SnapshotError> {
    let mut opened: BTreeMap<&str, Snapshots> = BTreeMap::new();
    let mut deleted = 0;
    for record in records.iter().filter(|r| !r.snapshot_id.is_empty()) {
        if !opened.contains_key(record.location.as_str()) {
            let Some(snapshots) = Snapshots::open_configured(&record.location, locations).await else {
                return Err(SnapshotError {
                    op: format!("delete snapshot {}", record.snapshot_id),
                    message: format!(
                        "volume snapshot location {} is not configured; add it with `ark config set-snapshot-location`",
                        record.location
                    ),
                    not_found: false,
                });
            };
            opened.insert(&record.location, snapshots?);
        }
        opened[record.location.as_str()].snapshotter.delete_snapshot(&record.snapshot_id).await?;
        deleted += 1;
    }
    Ok(deleted)
}
