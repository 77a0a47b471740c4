//! Talking to the Kubernetes API: connecting as kubectl would, discovery, listing and creating
//! objects, waiting for namespaces and CRDs, running commands in pods. Knows nothing of
//! archives, buckets or terminals.

mod connect;
mod discovery;
mod exec;
mod list;
pub(crate) mod objects;
mod request;
mod wait;

pub(crate) use connect::{ClusterError, Connection, KubeTarget};
pub(crate) use discovery::{ResourceCatalog, discover};
pub(crate) use exec::{ExecRequest, exec};
pub(crate) use list::Pager;
pub(crate) use request::ApiError;
pub(crate) use wait::{CrdState, NamespaceError, crd_established, ensure_namespace};
