//! Sync: reads `backups/` and `restores/` of each storage location and replaces the local cache
//! with what is there, reporting what appeared, what disappeared and what changed phase. This
//! is how an operator on a new machine, or of a new cluster, finds the backups of the old one.
//! Sync only reads buckets, so read-only locations are synced like any other.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::catalog;
use super::errors::describe;
use crate::config::{Config, ConfigError, Dirs};
use crate::state::{BackupSummary, CachedBackup, CachedRestore, LocationCache, StateError, StateFile};
use crate::store::{Bucket, StoreError, for_each_location};

/// What one location holds now, and how that differs from the cache before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationChanges {
    pub(crate) location: String,
    /// Backups and restores in the location now.
    pub(crate) backups: usize,
    pub(crate) restores: usize,
    pub(crate) added: Vec<String>,
    pub(crate) removed: Vec<String>,
    /// `name: OldPhase -> NewPhase`.
    pub(crate) changed: Vec<String>,
    pub(crate) restores_added: Vec<String>,
    pub(crate) restores_removed: Vec<String>,
    /// Why the location could not be read; its cache was kept as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl LocationChanges {
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.restores_added.is_empty()
            && self.restores_removed.is_empty()
            && self.error.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SyncReport {
    pub(crate) locations: Vec<LocationChanges>,
    /// Locations no longer in the config, whose cache was dropped.
    pub(crate) forgotten_locations: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    State(#[from] StateError),
}

impl SyncError {
    /// A location that is not configured is an error in what the user asked for.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::Config(_))
    }
}

/// Reads everything the cache holds about one location from its bucket.
pub(crate) async fn read_location(bucket: &Bucket, now: DateTime<Utc>) -> Result<LocationCache, StoreError> {
    let backups = catalog::list_backups(bucket)
        .await?
        .into_iter()
        .map(|listed| {
            let cached = match &listed.record {
                Ok(record) => CachedBackup::Readable(BackupSummary::from(record)),
                Err(reason) => CachedBackup::Unreadable { reason: reason.clone() },
            };
            (listed.name, cached)
        })
        .collect();
    let restores =
        catalog::list_restores(bucket).await?.iter().map(|r| (r.name.to_string(), CachedRestore::from(r))).collect();
    Ok(LocationCache { synced: now, backups, restores })
}

/// How `after` differs from `before` (nothing cached counts as empty).
pub(crate) fn changes(location: &str, before: Option<&LocationCache>, after: &LocationCache) -> LocationChanges {
    let empty = LocationCache { synced: after.synced, backups: BTreeMap::new(), restores: BTreeMap::new() };
    let before = before.unwrap_or(&empty);
    let mut changes = LocationChanges {
        location: location.to_owned(),
        backups: after.backups.len(),
        restores: after.restores.len(),
        ..Default::default()
    };
    for (name, now) in &after.backups {
        match before.backups.get(name) {
            None => changes.added.push(name.clone()),
            Some(then) if then.phase_text() != now.phase_text() => {
                changes.changed.push(format!("{name}: {} -> {}", then.phase_text(), now.phase_text()));
            }
            Some(_) => {}
        }
    }
    changes.removed = before.backups.keys().filter(|n| !after.backups.contains_key(*n)).cloned().collect();
    changes.restores_added = after.restores.keys().filter(|n| !before.restores.contains_key(*n)).cloned().collect();
    changes.restores_removed = before.restores.keys().filter(|n| !after.restores.contains_key(*n)).cloned().collect();
    changes
}

/// Syncs the named location, or every configured one (then the cache of locations no longer
/// configured is dropped). A location that cannot be read is reported with its error and keeps
/// its cache; the others are still synced.
pub(crate) async fn sync_locations(
    config: &Config,
    dirs: &Dirs,
    only: Option<&str>,
    state: &StateFile,
    now: DateTime<Utc>,
) -> Result<SyncReport, SyncError> {
    let found: Vec<(String, Result<LocationCache, String>)> =
        for_each_location(config, dirs, only, |bucket| async move { read_location(&bucket, now).await })
            .await?
            .into_iter()
            .map(|(name, result)| (name.to_string(), result.map_err(|e| describe(&e))))
            .collect();
    let locations: Vec<String> = found.iter().map(|(name, _)| name.clone()).collect();
    let (report, _) = state.update(|s| {
        let mut report = SyncReport::default();
        for (name, result) in found {
            match result {
                Ok(cache) => {
                    report.locations.push(changes(&name, s.cache.get(&name), &cache));
                    s.cache.insert(name, cache);
                }
                Err(error) => report.locations.push(LocationChanges {
                    location: name.clone(),
                    backups: s.cache.get(&name).map_or(0, |c| c.backups.len()),
                    restores: s.cache.get(&name).map_or(0, |c| c.restores.len()),
                    error: Some(error),
                    ..Default::default()
                }),
            }
        }
        if only.is_none() {
            report.forgotten_locations = s.cache.keys().filter(|n| !locations.contains(n)).cloned().collect();
            s.cache.retain(|n, _| !report.forgotten_locations.contains(n));
        }
        Ok::<_, StateError>(report)
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupPhase;

    fn summary(phase: BackupPhase) -> CachedBackup {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        CachedBackup::Readable(BackupSummary {
            phase,
            start_timestamp: t,
            completion_timestamp: None,
            expiration: t,
            schedule: None,
            errors: 0,
            warnings: 0,
        })
    }

    fn cache(backups: &[(&str, CachedBackup)], restores: &[&str]) -> LocationCache {
        LocationCache {
            synced: DateTime::<Utc>::UNIX_EPOCH,
            backups: backups.iter().map(|(n, b)| (n.to_string(), b.clone())).collect(),
            restores: restores
                .iter()
                .map(|n| {
                    let r = CachedRestore {
                        backup: "a".into(),
                        phase: crate::model::RestorePhase::Completed,
                        start_timestamp: DateTime::<Utc>::UNIX_EPOCH,
                    };
                    (n.to_string(), r)
                })
                .collect(),
        }
    }

    #[test]
    fn reports_new_gone_and_changed_backups_and_restores() {
        let before =
            cache(&[("a", summary(BackupPhase::InProgress)), ("gone", summary(BackupPhase::Completed))], &["r1"]);
        let after = cache(
            &[("a", summary(BackupPhase::Completed)), ("new", CachedBackup::Unreadable { reason: "x".into() })],
            &["r2"],
        );
        let c = changes("moto", Some(&before), &after);
        assert_eq!(c.added, ["new"]);
        assert_eq!(c.removed, ["gone"]);
        assert_eq!(c.changed, ["a: InProgress -> Completed"]);
        assert_eq!(
            (c.restores_added.as_slice(), c.restores_removed.as_slice()),
            (&["r2".to_owned()][..], &["r1".to_owned()][..])
        );
        assert_eq!((c.backups, c.restores), (2, 1));
        assert!(changes("moto", Some(&after), &after).is_empty());
        assert_eq!(changes("moto", None, &after).added, ["a", "new"]);
    }
}
