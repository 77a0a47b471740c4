//! Object storage: opening a configured location as an `object_store` bucket, the bucket layout
//! (where each backup's and restore's objects live), and the records stored there. The bucket is
//! the source of truth; nothing here touches the cluster or the local state.
//!
//! Every byte ark keeps in a bucket goes through `Bucket`'s few calls (`put` and `get`,
//! `put_stream` and `get_stream` for archives, and the gzip and JSON helpers built on them), and
//! every error about a bucket is made here, naming the location and the key.

mod bucket;
mod layout;
mod locations;

pub(crate) use bucket::{Bucket, StoreError};
pub(crate) use layout::BucketLayout;
pub(crate) use locations::for_each_location;
