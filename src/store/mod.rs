//! Object storage: opening a configured location as an `object_store` bucket, the bucket layout
//! (where each backup's and restore's objects live), and the records stored there. The bucket is
//! the source of truth; nothing here touches the cluster or the local state.

mod bucket;
mod layout;

pub(crate) use bucket::{Bucket, StoreError};
pub(crate) use layout::BucketLayout;
