//! Reading and removing restore records in a storage location. Removing a record never
//! touches the restored objects in the cluster.

use futures::StreamExt;

use crate::model::{ResourceName, RestoreRecord, RestoreResults};
use crate::store::{Bucket, BucketLayout, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreLookupError {
    #[error("restore {name} not found in storage location {location} (see `ark restore get`)")]
    NotFound { name: String, location: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every readable restore record, newest first.
pub(crate) async fn list_restores(bucket: &Bucket) -> Result<Vec<RestoreRecord>, StoreError> {
    let names = bucket.list_dirs(&object_store::path::Path::from(BucketLayout::RESTORES)).await?;
    let mut records: Vec<RestoreRecord> = futures::stream::iter(names)
        .filter_map(|name| async move {
            let name = ResourceName::parse(&name).ok()?;
            bucket.get_json::<RestoreRecord>(&BucketLayout::restore_record(&name)).await.ok()
        })
        .collect()
        .await;
    records.sort_by_key(|r| std::cmp::Reverse(r.start_timestamp));
    Ok(records)
}

pub(crate) async fn get_restore(
    bucket: &Bucket,
    name: &ResourceName,
) -> Result<(RestoreRecord, RestoreResults), RestoreLookupError> {
    let record: RestoreRecord = bucket.get_json(&BucketLayout::restore_record(name)).await.map_err(|e| {
        if e.is_not_found() {
            RestoreLookupError::NotFound { name: name.to_string(), location: bucket.name.to_string() }
        } else {
            e.into()
        }
    })?;
    let results = match bucket.get_gz_json(&BucketLayout::restore_results(name)).await {
        Ok(results) => results,
        Err(e) if e.is_not_found() => RestoreResults::default(),
        Err(e) => return Err(e.into()),
    };
    Ok((record, results))
}

pub(crate) async fn restore_log(bucket: &Bucket, name: &ResourceName) -> Result<String, RestoreLookupError> {
    get_restore(bucket, name).await?;
    Ok(String::from_utf8_lossy(&bucket.get_gz(&BucketLayout::restore_log(name)).await?).into_owned())
}

/// Deletes a restore's objects in the bucket, its record last.
pub(crate) async fn delete_restore(bucket: &Bucket, name: &ResourceName) -> Result<(), RestoreLookupError> {
    get_restore(bucket, name).await?;
    let record_key = BucketLayout::restore_record(name);
    for key in bucket.list_keys(&BucketLayout::restore_dir(name)).await? {
        if key != record_key {
            bucket.delete(&key).await?;
        }
    }
    bucket.delete(&record_key).await?;
    Ok(())
}
