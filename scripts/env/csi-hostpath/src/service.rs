//! The gRPC face of the plugin: the Identity, Controller and Node traits generated from csi.proto,
//! each call run as the synchronous [`Plugin`] function of the same name on a blocking thread (the
//! work is file copies) and logged with its request, answer and duration, one line per call, as
//! csi-hostpath.log shows them. Calls the plugin does not implement answer UNIMPLEMENTED through
//! the generated default methods.
//!
//! The plugin never uses the secrets a request may carry; they are dropped before anything is
//! logged.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tonic::{Request, Response, Status};

use crate::csi;
use crate::plugin::Plugin;

#[derive(Clone)]
pub(crate) struct CsiService {
    plugin: Arc<Plugin>,
}

type Answer<T> = Result<Response<T>, Status>;

/// Requests whose `secrets` are dropped on arrival.
trait Secrets {
    fn drop_secrets(&mut self);
}

macro_rules! secrets {
    ($($request:ty),*) => {$(
        impl Secrets for $request {
            fn drop_secrets(&mut self) {
                self.secrets.clear();
            }
        }
    )*};
}

macro_rules! no_secrets {
    ($($request:ty),*) => {$(
        impl Secrets for $request {
            fn drop_secrets(&mut self) {}
        }
    )*};
}

secrets!(
    csi::CreateVolumeRequest,
    csi::DeleteVolumeRequest,
    csi::ValidateVolumeCapabilitiesRequest,
    csi::CreateSnapshotRequest,
    csi::DeleteSnapshotRequest,
    csi::ListSnapshotsRequest
);
no_secrets!(
    csi::GetPluginInfoRequest,
    csi::GetPluginCapabilitiesRequest,
    csi::ProbeRequest,
    csi::ControllerGetCapabilitiesRequest,
    csi::NodeGetInfoRequest,
    csi::NodeGetCapabilitiesRequest
);

impl CsiService {
    pub(crate) fn new(plugin: Plugin) -> CsiService {
        CsiService { plugin: Arc::new(plugin) }
    }

    /// Runs `op` for the RPC `method` (its full gRPC name, as the log shows it).
    async fn call<Req, Resp>(
        &self,
        method: &'static str,
        request: Request<Req>,
        op: fn(&Plugin, &Req) -> Result<Resp, Status>,
    ) -> Answer<Resp>
    where
        Req: Secrets + Debug + Send + 'static,
        Resp: Debug + Send + 'static,
    {
        let start = Instant::now();
        let mut req = request.into_inner();
        req.drop_secrets();
        let plugin = Arc::clone(&self.plugin);
        let (req, answer) = tokio::task::spawn_blocking(move || {
            let answer = op(&plugin, &req);
            (req, answer)
        })
        .await
        .map_err(|e| Status::internal(format!("{method}: {e}")))?;
        log_call(method, &req, &answer, start.elapsed());
        answer.map(Response::new)
    }
}

/// Probes and capability questions come every few seconds and say nothing new: only their
/// failures are logged.
fn log_call<Req: Debug, Resp: Debug>(
    method: &str,
    req: &Req,
    answer: &Result<Resp, Status>,
    took: std::time::Duration,
) {
    let now = prost_types::Timestamp::from(SystemTime::now());
    let now = prost_types::Timestamp { nanos: 0, ..now };
    match answer {
        Err(status) => eprintln!("{now} {method} {req:?}: {:?}: {} ({took:?})", status.code(), status.message()),
        Ok(_) if method.ends_with("/Probe") || method.ends_with("Capabilities") => {}
        Ok(resp) => eprintln!("{now} {method} {req:?} -> {resp:?} ({took:?})"),
    }
}

#[tonic::async_trait]
impl csi::identity_server::Identity for CsiService {
    async fn get_plugin_info(&self, request: Request<csi::GetPluginInfoRequest>) -> Answer<csi::GetPluginInfoResponse> {
        self.call("/csi.v1.Identity/GetPluginInfo", request, Plugin::get_plugin_info).await
    }

    async fn get_plugin_capabilities(
        &self,
        request: Request<csi::GetPluginCapabilitiesRequest>,
    ) -> Answer<csi::GetPluginCapabilitiesResponse> {
        self.call("/csi.v1.Identity/GetPluginCapabilities", request, Plugin::get_plugin_capabilities).await
    }

    async fn probe(&self, request: Request<csi::ProbeRequest>) -> Answer<csi::ProbeResponse> {
        self.call("/csi.v1.Identity/Probe", request, Plugin::probe).await
    }
}

#[tonic::async_trait]
impl csi::controller_server::Controller for CsiService {
    async fn create_volume(&self, request: Request<csi::CreateVolumeRequest>) -> Answer<csi::CreateVolumeResponse> {
        self.call("/csi.v1.Controller/CreateVolume", request, Plugin::create_volume).await
    }

    async fn delete_volume(&self, request: Request<csi::DeleteVolumeRequest>) -> Answer<csi::DeleteVolumeResponse> {
        self.call("/csi.v1.Controller/DeleteVolume", request, Plugin::delete_volume).await
    }

    async fn validate_volume_capabilities(
        &self,
        request: Request<csi::ValidateVolumeCapabilitiesRequest>,
    ) -> Answer<csi::ValidateVolumeCapabilitiesResponse> {
        self.call("/csi.v1.Controller/ValidateVolumeCapabilities", request, Plugin::validate_volume_capabilities).await
    }

    async fn controller_get_capabilities(
        &self,
        request: Request<csi::ControllerGetCapabilitiesRequest>,
    ) -> Answer<csi::ControllerGetCapabilitiesResponse> {
        self.call("/csi.v1.Controller/ControllerGetCapabilities", request, Plugin::controller_get_capabilities).await
    }

    async fn create_snapshot(
        &self,
        request: Request<csi::CreateSnapshotRequest>,
    ) -> Answer<csi::CreateSnapshotResponse> {
        self.call("/csi.v1.Controller/CreateSnapshot", request, Plugin::create_snapshot).await
    }

    async fn delete_snapshot(
        &self,
        request: Request<csi::DeleteSnapshotRequest>,
    ) -> Answer<csi::DeleteSnapshotResponse> {
        self.call("/csi.v1.Controller/DeleteSnapshot", request, Plugin::delete_snapshot).await
    }

    async fn list_snapshots(&self, request: Request<csi::ListSnapshotsRequest>) -> Answer<csi::ListSnapshotsResponse> {
        self.call("/csi.v1.Controller/ListSnapshots", request, Plugin::list_snapshots).await
    }
}

#[tonic::async_trait]
impl csi::node_server::Node for CsiService {
    async fn node_get_info(&self, request: Request<csi::NodeGetInfoRequest>) -> Answer<csi::NodeGetInfoResponse> {
        self.call("/csi.v1.Node/NodeGetInfo", request, Plugin::node_get_info).await
    }

    async fn node_get_capabilities(
        &self,
        request: Request<csi::NodeGetCapabilitiesRequest>,
    ) -> Answer<csi::NodeGetCapabilitiesResponse> {
        self.call("/csi.v1.Node/NodeGetCapabilities", request, Plugin::node_get_capabilities).await
    }
}
