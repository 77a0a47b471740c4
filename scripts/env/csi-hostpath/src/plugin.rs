//! What each CSI call does and answers, over the data directory: synchronous, one function per
//! RPC, unit-tested on temporary directories. The gRPC side (service.rs) only runs these on a
//! blocking thread and logs them.
//!
//! Idempotency is the CSI spec's: the same CreateVolume/CreateSnapshot name gives the same object
//! (ALREADY_EXISTS when asked again with other parameters), deleting what is gone succeeds.
//! Volume and snapshot ids are the names the sidecars ask for (`pvc-<uid>`, `snapshot-<uid>`),
//! unique per cluster, so two plugins sharing a data directory do not collide.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use prost_types::Timestamp;
use tonic::Status;

use crate::csi;
use crate::csi::controller_service_capability::rpc::Type as ControllerRpc;
use crate::csi::plugin_capability::service::Type as PluginService;
use crate::csi::volume_capability::AccessType;
use crate::csi::volume_content_source::{SnapshotSource, Type as ContentSource, VolumeSource as VolumeContent};
use crate::data_dir::{DataDir, Kind, SnapshotRecord, VolumeRecord, VolumeSource, id_for, is_safe_id};

/// Capacity of a volume whose request names none.
const DEFAULT_CAPACITY: i64 = 1 << 30;

/// Controller RPCs offered beside the mandatory ones. No PUBLISH_UNPUBLISH (nothing attaches) and
/// no GET_CAPACITY (the provisioner only asks with --enable-capacity).
const CONTROLLER_CAPABILITIES: [ControllerRpc; 4] = [
    ControllerRpc::CreateDeleteVolume,
    ControllerRpc::CreateDeleteSnapshot,
    ControllerRpc::ListSnapshots,
    ControllerRpc::CloneVolume,
];

pub(crate) struct Plugin {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) node_id: String,
    pub(crate) data: DataDir,
    pub(crate) clock: fn() -> SystemTime,
    /// One change at a time within this process. Two processes sharing a data directory rely on
    /// ids being unique per cluster (they carry object uids) and on records being renamed into
    /// place.
    changes: Mutex<()>,
}

fn internal(what: &str, err: impl std::fmt::Display) -> Status {
    Status::internal(format!("{what}: {err}"))
}

fn check_capabilities(capabilities: &[csi::VolumeCapability]) -> Result<(), Status> {
    if capabilities.is_empty() {
        return Err(Status::invalid_argument("volume capabilities missing"));
    }
    if capabilities.iter().any(|c| matches!(c.access_type, Some(AccessType::Block(_)))) {
        return Err(Status::invalid_argument("block volumes are not supported"));
    }
    Ok(())
}

impl Plugin {
    pub(crate) fn new(name: String, version: String, node_id: String, data: DataDir) -> Plugin {
        Plugin { name, version, node_id, data, clock: SystemTime::now, changes: Mutex::new(()) }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // The state is on disk; a panic in another call leaves nothing in memory to distrust.
        self.changes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Timestamp {
        (self.clock)().into()
    }

    fn volume_dir(&self, id: &str) -> PathBuf {
        self.data.dir(Kind::Volume, id)
    }

    fn read_volume(&self, id: &str) -> Result<Option<VolumeRecord>, Status> {
        self.data.read(Kind::Volume, id).map_err(|e| internal("read volume record", e))
    }

    fn read_snapshot(&self, id: &str) -> Result<Option<SnapshotRecord>, Status> {
        self.data.read(Kind::Snapshot, id).map_err(|e| internal("read snapshot record", e))
    }

    // Identity

    pub(crate) fn get_plugin_info(&self, _: &csi::GetPluginInfoRequest) -> Result<csi::GetPluginInfoResponse, Status> {
        Ok(csi::GetPluginInfoResponse {
            name: self.name.clone(),
            vendor_version: self.version.clone(),
            ..Default::default()
        })
    }

    pub(crate) fn get_plugin_capabilities(
        &self,
        _: &csi::GetPluginCapabilitiesRequest,
    ) -> Result<csi::GetPluginCapabilitiesResponse, Status> {
        // No VOLUME_ACCESSIBILITY_CONSTRAINTS: volumes have no topology, so Immediate binding
        // works without nodes.
        let service = csi::plugin_capability::Service { r#type: PluginService::ControllerService.into() };
        Ok(csi::GetPluginCapabilitiesResponse {
            capabilities: vec![csi::PluginCapability { r#type: Some(csi::plugin_capability::Type::Service(service)) }],
        })
    }

    pub(crate) fn probe(&self, _: &csi::ProbeRequest) -> Result<csi::ProbeResponse, Status> {
        std::fs::metadata(self.data.root())
            .map_err(|e| Status::failed_precondition(format!("data directory {}: {e}", self.data.root().display())))?;
        Ok(csi::ProbeResponse { ready: None })
    }

    // Controller

    pub(crate) fn controller_get_capabilities(
        &self,
        _: &csi::ControllerGetCapabilitiesRequest,
    ) -> Result<csi::ControllerGetCapabilitiesResponse, Status> {
        let capabilities = CONTROLLER_CAPABILITIES
            .iter()
            .map(|rpc| csi::ControllerServiceCapability {
                r#type: Some(csi::controller_service_capability::Type::Rpc(csi::controller_service_capability::Rpc {
                    r#type: (*rpc).into(),
                })),
            })
            .collect();
        Ok(csi::ControllerGetCapabilitiesResponse { capabilities })
    }

    pub(crate) fn create_volume(&self, req: &csi::CreateVolumeRequest) -> Result<csi::CreateVolumeResponse, Status> {
        if req.name.is_empty() {
            return Err(Status::invalid_argument("name missing"));
        }
        check_capabilities(&req.volume_capabilities)?;
        let range = req.capacity_range.unwrap_or_default();
        let capacity = [range.required_bytes, range.limit_bytes, DEFAULT_CAPACITY]
            .into_iter()
            .find(|&bytes| bytes != 0)
            .unwrap_or(DEFAULT_CAPACITY);
        let source = match req.volume_content_source.as_ref().and_then(|s| s.r#type.as_ref()) {
            Some(ContentSource::Snapshot(s)) => Some(VolumeSource::Snapshot(s.snapshot_id.clone())),
            Some(ContentSource::Volume(v)) => Some(VolumeSource::Volume(v.volume_id.clone())),
            None => None,
        };
        let record = VolumeRecord {
            id: id_for(&req.name),
            name: req.name.clone(),
            capacity_bytes: capacity,
            source,
            parameters: req.parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            created: self.now(),
        };

        let _changes = self.lock();
        if let Some(existing) = self.read_volume(&record.id)? {
            if existing.name != record.name
                || existing.capacity_bytes != record.capacity_bytes
                || existing.source != record.source
            {
                return Err(Status::already_exists(format!("volume {} exists with other parameters", record.id)));
            }
            return Ok(csi::CreateVolumeResponse { volume: Some(self.volume(&existing)) });
        }
        let from = match &record.source {
            None => None,
            Some(VolumeSource::Snapshot(id)) => {
                let snapshot =
                    self.read_snapshot(id)?.ok_or_else(|| Status::not_found(format!("snapshot {id} not found")))?;
                if snapshot.size_bytes > capacity {
                    return Err(Status::out_of_range(format!(
                        "snapshot {id} holds {} bytes, more than the {capacity} requested",
                        snapshot.size_bytes
                    )));
                }
                Some(self.data.dir(Kind::Snapshot, id))
            }
            Some(VolumeSource::Volume(id)) => {
                let volume =
                    self.read_volume(id)?.ok_or_else(|| Status::not_found(format!("volume {id} not found")))?;
                if volume.capacity_bytes > capacity {
                    return Err(Status::out_of_range(format!(
                        "volume {id} holds {} bytes, more than the {capacity} requested",
                        volume.capacity_bytes
                    )));
                }
                Some(self.volume_dir(id))
            }
        };
        self.data
            .fill(Kind::Volume, &record.id, from.as_deref())
            .map_err(|e| internal("create volume directory", e))?;
        self.data.write(Kind::Volume, &record.id, &record).map_err(|e| internal("write volume record", e))?;
        Ok(csi::CreateVolumeResponse { volume: Some(self.volume(&record)) })
    }

    fn volume(&self, record: &VolumeRecord) -> csi::Volume {
        let content_source = record.source.as_ref().map(|source| csi::VolumeContentSource {
            r#type: Some(match source {
                VolumeSource::Snapshot(id) => ContentSource::Snapshot(SnapshotSource { snapshot_id: id.clone() }),
                VolumeSource::Volume(id) => ContentSource::Volume(VolumeContent { volume_id: id.clone() }),
            }),
        });
        csi::Volume {
            volume_id: record.id.clone(),
            capacity_bytes: record.capacity_bytes,
            // Tests find the volume's files through the PV's volumeAttributes.
            volume_context: [("path".to_owned(), path_string(&self.volume_dir(&record.id)))].into(),
            content_source,
            ..Default::default()
        }
    }

    pub(crate) fn delete_volume(&self, req: &csi::DeleteVolumeRequest) -> Result<csi::DeleteVolumeResponse, Status> {
        if req.volume_id.is_empty() {
            return Err(Status::invalid_argument("volume id missing"));
        }
        if is_safe_id(&req.volume_id) {
            let _changes = self.lock();
            self.data.delete(Kind::Volume, &req.volume_id).map_err(|e| internal("delete volume", e))?;
        } // else never one of ours: nothing to delete
        Ok(csi::DeleteVolumeResponse {})
    }

    pub(crate) fn validate_volume_capabilities(
        &self,
        req: &csi::ValidateVolumeCapabilitiesRequest,
    ) -> Result<csi::ValidateVolumeCapabilitiesResponse, Status> {
        if self.read_volume(&req.volume_id)?.is_none() {
            return Err(Status::not_found(format!("volume {:?} not found", req.volume_id)));
        }
        if let Err(refused) = check_capabilities(&req.volume_capabilities) {
            return Ok(csi::ValidateVolumeCapabilitiesResponse {
                confirmed: None,
                message: refused.message().to_owned(),
            });
        }
        Ok(csi::ValidateVolumeCapabilitiesResponse {
            confirmed: Some(csi::validate_volume_capabilities_response::Confirmed {
                volume_context: req.volume_context.clone(),
                volume_capabilities: req.volume_capabilities.clone(),
                parameters: req.parameters.clone(),
                ..Default::default()
            }),
            message: String::new(),
        })
    }

    pub(crate) fn create_snapshot(
        &self,
        req: &csi::CreateSnapshotRequest,
    ) -> Result<csi::CreateSnapshotResponse, Status> {
        if req.name.is_empty() || req.source_volume_id.is_empty() {
            return Err(Status::invalid_argument("name or source volume id missing"));
        }
        let id = id_for(&req.name);
        let _changes = self.lock();
        if let Some(existing) = self.read_snapshot(&id)? {
            if existing.source_volume_id != req.source_volume_id {
                return Err(Status::already_exists(format!(
                    "snapshot {id} exists for volume {}",
                    existing.source_volume_id
                )));
            }
            return Ok(csi::CreateSnapshotResponse { snapshot: Some(snapshot(&existing)) });
        }
        let volume = self
            .read_volume(&req.source_volume_id)?
            .ok_or_else(|| Status::not_found(format!("volume {} not found", req.source_volume_id)))?;
        self.data
            .fill(Kind::Snapshot, &id, Some(&self.volume_dir(&volume.id)))
            .map_err(|e| internal("copy volume into snapshot", e))?;
        let record = SnapshotRecord {
            id: id.clone(),
            name: req.name.clone(),
            source_volume_id: volume.id,
            // A snapshot restores into a volume at least as large as its source (restoreSize).
            size_bytes: volume.capacity_bytes,
            parameters: req.parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<BTreeMap<_, _>>(),
            created: self.now(),
        };
        self.data.write(Kind::Snapshot, &id, &record).map_err(|e| internal("write snapshot record", e))?;
        Ok(csi::CreateSnapshotResponse { snapshot: Some(snapshot(&record)) })
    }

    pub(crate) fn delete_snapshot(
        &self,
        req: &csi::DeleteSnapshotRequest,
    ) -> Result<csi::DeleteSnapshotResponse, Status> {
        if req.snapshot_id.is_empty() {
            return Err(Status::invalid_argument("snapshot id missing"));
        }
        if is_safe_id(&req.snapshot_id) {
            let _changes = self.lock();
            self.data.delete(Kind::Snapshot, &req.snapshot_id).map_err(|e| internal("delete snapshot", e))?;
        }
        Ok(csi::DeleteSnapshotResponse {})
    }

    /// Every snapshot, or the one named by `snapshot_id`, of any source or of `source_volume_id`,
    /// in pages of `max_entries` whose token is the index of the next entry.
    pub(crate) fn list_snapshots(&self, req: &csi::ListSnapshotsRequest) -> Result<csi::ListSnapshotsResponse, Status> {
        let ids = if req.snapshot_id.is_empty() {
            self.data.list(Kind::Snapshot).map_err(|e| internal("list snapshots", e))?
        } else {
            vec![req.snapshot_id.clone()]
        };
        let mut records = Vec::new();
        for id in ids {
            if let Some(record) = self.read_snapshot(&id)?
                && (req.source_volume_id.is_empty() || record.source_volume_id == req.source_volume_id)
            {
                records.push(record);
            }
        }
        let start = match req.starting_token.as_str() {
            "" => 0,
            token => token
                .parse::<usize>()
                .ok()
                .filter(|&n| n <= records.len())
                .ok_or_else(|| Status::aborted(format!("starting token {token:?} is not valid")))?,
        };
        let end = match usize::try_from(req.max_entries) {
            Ok(max) if max > 0 => records.len().min(start + max),
            _ => records.len(),
        };
        Ok(csi::ListSnapshotsResponse {
            entries: records[start..end]
                .iter()
                .map(|r| csi::list_snapshots_response::Entry { snapshot: Some(snapshot(r)) })
                .collect(),
            next_token: if end < records.len() { end.to_string() } else { String::new() },
        })
    }

    // Node: no kubelet calls it; it names the node and offers nothing else.

    pub(crate) fn node_get_info(&self, _: &csi::NodeGetInfoRequest) -> Result<csi::NodeGetInfoResponse, Status> {
        Ok(csi::NodeGetInfoResponse { node_id: self.node_id.clone(), ..Default::default() })
    }

    pub(crate) fn node_get_capabilities(
        &self,
        _: &csi::NodeGetCapabilitiesRequest,
    ) -> Result<csi::NodeGetCapabilitiesResponse, Status> {
        Ok(csi::NodeGetCapabilitiesResponse { capabilities: Vec::new() })
    }
}

fn snapshot(record: &SnapshotRecord) -> csi::Snapshot {
    csi::Snapshot {
        snapshot_id: record.id.clone(),
        source_volume_id: record.source_volume_id.clone(),
        size_bytes: record.size_bytes,
        creation_time: Some(record.created),
        ready_to_use: true,
        // Group snapshots and topology: none.
        ..Default::default()
    }
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::{Duration, UNIX_EPOCH};

    use tonic::Code;

    use super::*;

    fn fixed_clock() -> SystemTime {
        UNIX_EPOCH + Duration::new(1_795_938_152, 44_707_809)
    }

    fn plugin_in(dir: &Path) -> Plugin {
        let mut plugin =
            Plugin::new("hostpath.csi.k8s.io".into(), "test".into(), "node-1".into(), DataDir::open(dir).unwrap());
        plugin.clock = fixed_clock;
        plugin
    }

    fn mount() -> csi::VolumeCapability {
        csi::VolumeCapability {
            access_type: Some(AccessType::Mount(Default::default())),
            access_mode: Some(csi::volume_capability::AccessMode {
                mode: csi::volume_capability::access_mode::Mode::SingleNodeWriter.into(),
            }),
        }
    }

    fn create_volume_request(name: &str, source: Option<ContentSource>) -> csi::CreateVolumeRequest {
        csi::CreateVolumeRequest {
            name: name.into(),
            capacity_range: Some(csi::CapacityRange { required_bytes: 1 << 30, limit_bytes: 0 }),
            volume_capabilities: vec![mount()],
            parameters: [("csi.storage.k8s.io/pvc/name".to_owned(), "data".to_owned())].into(),
            volume_content_source: source.map(|t| csi::VolumeContentSource { r#type: Some(t) }),
            ..Default::default()
        }
    }

    fn create_snapshot_request(name: &str, volume: &str) -> csi::CreateSnapshotRequest {
        csi::CreateSnapshotRequest { name: name.into(), source_volume_id: volume.into(), ..Default::default() }
    }

    fn from_snapshot(id: &str) -> Option<ContentSource> {
        Some(ContentSource::Snapshot(SnapshotSource { snapshot_id: id.into() }))
    }

    #[test]
    fn a_volume_is_a_0777_directory_named_by_its_pvc_and_created_once() {
        let tmp = tempfile::tempdir().unwrap();
        let plugin = plugin_in(tmp.path());
        let created = plugin.create_volume(&create_volume_request("pvc-1", None)).unwrap().volume.unwrap();
        assert_eq!(created.volume_id, "pvc-1");
        assert_eq!(created.capacity_bytes, 1 << 30);
        let path = tmp.path().join("volumes/pvc-1");
        assert_eq!(created.volume_context["path"], path_string(&path));
        assert!(path.is_dir());
        fs::write(path.join("f"), "x").unwrap();

        // Asked again (a retry after a timeout): the same volume, its files untouched.
        let again = plugin.create_volume(&create_volume_request("pvc-1", None)).unwrap().volume.unwrap();
        assert_eq!(again, created);
        assert_eq!(fs::read_to_string(path.join("f")).unwrap(), "x");

        let mut bigger = create_volume_request("pvc-1", None);
        bigger.capacity_range = Some(csi::CapacityRange { required_bytes: 2 << 30, limit_bytes: 0 });
        assert_eq!(plugin.create_volume(&bigger).unwrap_err().code(), Code::AlreadyExists);

        let record: serde_json::Value =
            serde_json::from_slice(&fs::read(tmp.path().join("volumes/pvc-1.json")).unwrap()).unwrap();
        assert_eq!(
            record,
            serde_json::json!({
                "id": "pvc-1", "name": "pvc-1", "capacityBytes": 1073741824,
                "parameters": {"csi.storage.k8s.io/pvc/name": "data"},
                "created": "2026-11-29T07:42:32.044707809Z",
            })
        );
    }

    #[test]
    fn bad_create_volume_requests_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let plugin = plugin_in(tmp.path());
        let code = |req: csi::CreateVolumeRequest| plugin.create_volume(&req).unwrap_err().code();

        assert_eq!(code(create_volume_request("", None)), Code::InvalidArgument);
        let mut no_capabilities = create_volume_request("pvc-1", None);
        no_capabilities.volume_capabilities.clear();
        assert_eq!(code(no_capabilities), Code::InvalidArgument);
        let mut block = create_volume_request("pvc-1", None);
        block.volume_capabilities[0].access_type = Some(AccessType::Block(Default::default()));
        assert_eq!(code(block), Code::InvalidArgument);
        assert_eq!(code(create_volume_request("pvc-1", from_snapshot("snapshot-gone"))), Code::NotFound);
        assert_eq!(code(create_volume_request("pvc-1", from_snapshot("../volumes/x"))), Code::NotFound);
        assert!(!tmp.path().join("volumes/pvc-1").exists());
    }

    #[test]
    fn a_snapshot_copies_the_volume_and_restores_into_a_new_one() {
        let tmp = tempfile::tempdir().unwrap();
        let plugin = plugin_in(tmp.path());
        plugin.create_volume(&create_volume_request("pvc-1", None)).unwrap();
        let volume = tmp.path().join("volumes/pvc-1");
        fs::create_dir(volume.join("sub")).unwrap();
        fs::write(volume.join("sub/n.txt"), "hello").unwrap();

        let snap = plugin.create_snapshot(&create_snapshot_request("snapshot-1", "pvc-1")).unwrap().snapshot.unwrap();
        assert_eq!(snap.snapshot_id, "snapshot-1");
        assert_eq!(snap.source_volume_id, "pvc-1");
        assert_eq!(snap.size_bytes, 1 << 30);
        assert!(snap.ready_to_use);
        assert_eq!(snap.creation_time, Some(fixed_clock().into()));
        // Later writes to the volume do not reach the snapshot.
        fs::write(volume.join("sub/n.txt"), "changed").unwrap();
        let again = plugin.create_snapshot(&create_snapshot_request("snapshot-1", "pvc-1")).unwrap();
        assert_eq!(again.snapshot, Some(snap));
        plugin.create_volume(&create_volume_request("pvc-9", None)).unwrap();
        let other_source = plugin.create_snapshot(&create_snapshot_request("snapshot-1", "pvc-9")).unwrap_err();
        assert_eq!(other_source.code(), Code::AlreadyExists);

        let restored =
            plugin.create_volume(&create_volume_request("pvc-2", from_snapshot("snapshot-1"))).unwrap().volume.unwrap();
        assert_eq!(restored.content_source.unwrap().r#type, from_snapshot("snapshot-1"));
        assert_eq!(fs::read_to_string(tmp.path().join("volumes/pvc-2/sub/n.txt")).unwrap(), "hello");

        let mut too_small = create_volume_request("pvc-3", from_snapshot("snapshot-1"));
        too_small.capacity_range = Some(csi::CapacityRange { required_bytes: 1 << 20, limit_bytes: 0 });
        assert_eq!(plugin.create_volume(&too_small).unwrap_err().code(), Code::OutOfRange);

        let clone =
            create_volume_request("pvc-4", Some(ContentSource::Volume(VolumeContent { volume_id: "pvc-1".into() })));
        plugin.create_volume(&clone).unwrap();
        assert_eq!(fs::read_to_string(tmp.path().join("volumes/pvc-4/sub/n.txt")).unwrap(), "changed");

        let missing = plugin.create_snapshot(&create_snapshot_request("snapshot-2", "pvc-gone")).unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
    }

    #[test]
    fn two_plugins_on_one_data_directory_see_and_delete_each_others_snapshots() {
        let tmp = tempfile::tempdir().unwrap();
        let one = plugin_in(tmp.path());
        let two = plugin_in(tmp.path());
        one.create_volume(&create_volume_request("pvc-1", None)).unwrap();
        fs::write(tmp.path().join("volumes/pvc-1/greeting.txt"), "hello from cluster one").unwrap();
        one.create_snapshot(&create_snapshot_request("snapshot-1", "pvc-1")).unwrap();

        let listed = two
            .list_snapshots(&csi::ListSnapshotsRequest { snapshot_id: "snapshot-1".into(), ..Default::default() })
            .unwrap();
        assert_eq!(listed.entries.len(), 1);
        two.create_volume(&create_volume_request("pvc-a", from_snapshot("snapshot-1"))).unwrap();
        assert_eq!(
            fs::read_to_string(tmp.path().join("volumes/pvc-a/greeting.txt")).unwrap(),
            "hello from cluster one"
        );

        two.delete_snapshot(&csi::DeleteSnapshotRequest { snapshot_id: "snapshot-1".into(), ..Default::default() })
            .unwrap();
        assert!(!tmp.path().join("snapshots/snapshot-1").exists());
        let listed = one
            .list_snapshots(&csi::ListSnapshotsRequest { snapshot_id: "snapshot-1".into(), ..Default::default() })
            .unwrap();
        assert!(listed.entries.is_empty());
        // Deleting again, or something never ours, succeeds.
        one.delete_snapshot(&csi::DeleteSnapshotRequest { snapshot_id: "snapshot-1".into(), ..Default::default() })
            .unwrap();
        one.delete_snapshot(&csi::DeleteSnapshotRequest { snapshot_id: "a/../b".into(), ..Default::default() })
            .unwrap();
    }

    #[test]
    fn list_snapshots_filters_by_source_and_pages() {
        let tmp = tempfile::tempdir().unwrap();
        let plugin = plugin_in(tmp.path());
        plugin.create_volume(&create_volume_request("pvc-1", None)).unwrap();
        plugin.create_volume(&create_volume_request("pvc-2", None)).unwrap();
        for (name, volume) in [("snap-a", "pvc-1"), ("snap-b", "pvc-2"), ("snap-c", "pvc-1")] {
            plugin.create_snapshot(&create_snapshot_request(name, volume)).unwrap();
        }
        let list = |req: csi::ListSnapshotsRequest| plugin.list_snapshots(&req);
        let ids = |resp: &csi::ListSnapshotsResponse| -> Vec<String> {
            resp.entries.iter().map(|e| e.snapshot.as_ref().unwrap().snapshot_id.clone()).collect()
        };

        let all = list(Default::default()).unwrap();
        assert_eq!(ids(&all), ["snap-a", "snap-b", "snap-c"]);
        assert_eq!(all.next_token, "");
        let of_one =
            list(csi::ListSnapshotsRequest { source_volume_id: "pvc-1".into(), ..Default::default() }).unwrap();
        assert_eq!(ids(&of_one), ["snap-a", "snap-c"]);
        let by_id_and_other_source = list(csi::ListSnapshotsRequest {
            snapshot_id: "snap-b".into(),
            source_volume_id: "pvc-1".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(by_id_and_other_source.entries.is_empty());

        let first = list(csi::ListSnapshotsRequest { max_entries: 2, ..Default::default() }).unwrap();
        assert_eq!((ids(&first), first.next_token.as_str()), (vec!["snap-a".into(), "snap-b".into()], "2"));
        let rest = list(csi::ListSnapshotsRequest { max_entries: 2, starting_token: "2".into(), ..Default::default() })
            .unwrap();
        assert_eq!((ids(&rest), rest.next_token.as_str()), (vec!["snap-c".into()], ""));
        for bad in ["x", "-1", "4"] {
            let err = list(csi::ListSnapshotsRequest { starting_token: bad.into(), ..Default::default() }).unwrap_err();
            assert_eq!(err.code(), Code::Aborted, "{bad}");
        }
    }

    #[test]
    fn deleting_a_volume_removes_its_record_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let plugin = plugin_in(tmp.path());
        plugin.create_volume(&create_volume_request("pvc-1", None)).unwrap();
        plugin.delete_volume(&csi::DeleteVolumeRequest { volume_id: "pvc-1".into(), ..Default::default() }).unwrap();
        assert!(fs::read_dir(tmp.path().join("volumes")).unwrap().next().is_none());
        plugin.delete_volume(&csi::DeleteVolumeRequest { volume_id: "pvc-1".into(), ..Default::default() }).unwrap();
        let missing_id = plugin.delete_volume(&Default::default()).unwrap_err();
        assert_eq!(missing_id.code(), Code::InvalidArgument);
    }

    #[test]
    fn capabilities_are_the_go_plugins() {
        let tmp = tempfile::tempdir().unwrap();
        let plugin = plugin_in(tmp.path());
        let controller = plugin.controller_get_capabilities(&Default::default()).unwrap();
        let rpcs: Vec<i32> = controller
            .capabilities
            .iter()
            .map(|c| match &c.r#type {
                Some(csi::controller_service_capability::Type::Rpc(rpc)) => rpc.r#type,
                other => panic!("not an rpc capability: {other:?}"),
            })
            .collect();
        assert_eq!(rpcs, CONTROLLER_CAPABILITIES.map(i32::from));
        let identity = plugin.get_plugin_capabilities(&Default::default()).unwrap();
        assert_eq!(identity.capabilities.len(), 1);
        assert!(plugin.node_get_capabilities(&Default::default()).unwrap().capabilities.is_empty());
        assert_eq!(plugin.node_get_info(&Default::default()).unwrap().node_id, "node-1");

        let validated = plugin
            .validate_volume_capabilities(&csi::ValidateVolumeCapabilitiesRequest {
                volume_id: "pvc-none".into(),
                volume_capabilities: vec![mount()],
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(validated.code(), Code::NotFound);
        plugin.create_volume(&create_volume_request("pvc-1", None)).unwrap();
        let confirmed = plugin
            .validate_volume_capabilities(&csi::ValidateVolumeCapabilitiesRequest {
                volume_id: "pvc-1".into(),
                volume_capabilities: vec![mount()],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(confirmed.confirmed.unwrap().volume_capabilities, vec![mount()]);
    }
}
