//! Storage locations as the config names them: open one by name (or the default), or visit
//! every one. The only place that goes from the config to an opened bucket.

use super::{Bucket, StoreError};
use crate::config::{Config, ConfigError, Dirs};
use crate::model::ResourceName;

impl Bucket {
    /// Opens the storage location the config calls `name`, or the default one.
    pub(crate) async fn open_configured(config: &Config, dirs: &Dirs, name: Option<&str>) -> Result<Self, StoreError> {
        let (name, location) = config.storage_location(name, dirs)?;
        Self::open(&name, &location).await
    }
}

/// Opens the storage location named `only`, or every configured one, and calls `visit` with
/// each. A location that cannot be opened, or where `visit` fails, gets its error and the others
/// are still visited: the result has one entry per location, in the config's order. Fails only
/// when `only` names no configured location.
pub(crate) async fn for_each_location<T, F: Future<Output = Result<T, StoreError>>>(
    config: &Config,
    dirs: &Dirs,
    only: Option<&str>,
    mut visit: impl FnMut(Bucket) -> F,
) -> Result<Vec<(ResourceName, Result<T, StoreError>)>, ConfigError> {
    let locations = match only {
        Some(name) => vec![config.storage_location(Some(name), dirs)?],
        None => config.storage_locations(dirs).into_iter().collect(),
    };
    let mut results = Vec::with_capacity(locations.len());
    for (name, location) in locations {
        let result = match Bucket::open(&name, &location).await {
            Ok(bucket) => visit(bucket).await,
            Err(e) => Err(e),
        };
        results.push((name, result));
    }
    Ok(results)
}
