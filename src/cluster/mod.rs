//! Talking to the Kubernetes API: connecting as kubectl would, discovery, listing and creating
//! objects, running commands in pods. Knows nothing of archives, buckets or terminals.

mod connect;
mod discovery;
mod exec;
mod list;
pub(crate) mod objects;
mod request;

pub(crate) use connect::{ClusterError, Connection, KubeTarget};
pub(crate) use discovery::{ResourceCatalog, discover};
pub(crate) use exec::{ExecRequest, exec};
pub(crate) use list::Pager;
pub(crate) use request::ApiError;
