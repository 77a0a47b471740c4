//! Garbage collection: deletes every backup past its expiration, with everything that belongs to
//! it: its objects and volume snapshots (through `catalog::delete_backup`, the one way a backup
//! is deleted) and the records of every restore made from it.
//!
//! It never deletes what it cannot be sure of: a backup whose record cannot be read (its
//! expiration is unknown) or that is still InProgress is reported and left alone, and a
//! read-only location (another cluster's backups) is never touched.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::catalog::{self, Listed};
use super::errors::describe;
use crate::config::{Config, ConfigError, Dirs, SnapshotLocation};
use crate::model::{BackupPhase, BackupRecord, ResourceName};
use crate::state::{StateError, StateFile};
use crate::store::{Bucket, StoreError, for_each_location};

/// What gc did (or, in a dry run, would do) in one storage location.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GcReport {
    pub(crate) location: String,
    pub(crate) dry_run: bool,
    /// Why the whole location was left alone on purpose (it is read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) skipped_location: Option<String>,
    /// Why the location could not be collected (unreachable, cannot be listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    pub(crate) deleted: Vec<ExpiredBackup>,
    pub(crate) skipped: Vec<SkippedBackup>,
    pub(crate) failed: Vec<FailedBackup>,
    /// Backups not expired yet.
    pub(crate) kept: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExpiredBackup {
    pub(crate) backup: String,
    pub(crate) expiration: DateTime<Utc>,
    /// Volume snapshots it took, deleted with it.
    pub(crate) snapshots: usize,
    /// Restores made from it, whose records went with it.
    pub(crate) restores: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SkippedBackup {
    pub(crate) backup: String,
    pub(crate) reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FailedBackup {
    pub(crate) backup: String,
    pub(crate) error: String,
}

impl GcReport {
    pub(crate) fn has_failures(&self) -> bool {
        !self.failed.is_empty() || self.error.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum GcError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    State(#[from] StateError),
}

impl GcError {
    /// A location that is not configured is an error in what the user asked for.
    pub(crate) fn is_usage(&self) -> bool {
        matches!(self, Self::Config(_))
    }
}

/// What to do with one listed backup.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Keep,
    Expire(DateTime<Utc>),
    Skip(String),
}

/// The rule, as a plain function of the record and the time.
pub(crate) fn verdict(record: &Result<BackupRecord, String>, now: DateTime<Utc>) -> Verdict {
    match record {
        Err(problem) => Verdict::Skip(format!("its record cannot be read, so its expiration is unknown: {problem}")),
        Ok(r) if r.expiration > now => Verdict::Keep,
        Ok(r) if r.phase == BackupPhase::InProgress => Verdict::Skip(
            "expired but still InProgress: it may still be being written (once it is not, `ark backup delete` \
             removes it)"
                .into(),
        ),
        Ok(r) => Verdict::Expire(r.expiration),
    }
}

/// Collects garbage in one opened location; `snapshot_locations` are where the snapshots of
/// expired backups are deleted.
pub(crate) async fn collect_garbage(
    bucket: &Bucket,
    snapshot_locations: &BTreeMap<ResourceName, SnapshotLocation>,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<GcReport, StoreError> {
    let mut report = GcReport { location: bucket.name.to_string(), dry_run, ..Default::default() };
    if bucket.read_only {
        report.skipped_location = Some("read-only: never garbage-collected".into());
        return Ok(report);
    }
    let listed = catalog::list_backups(bucket).await?;
    let mut restore_records = None;
    for Listed { name, record } in listed {
        let expiration = match verdict(&record, now) {
            Verdict::Keep => {
                report.kept += 1;
                continue;
            }
            Verdict::Skip(reason) => {
                report.skipped.push(SkippedBackup { backup: name, reason });
                continue;
            }
            Verdict::Expire(expiration) => expiration,
        };
        // A readable record was found under this name, so it is a valid one.
        let Ok(backup) = ResourceName::parse(&name) else { continue };
        // Deleting the snapshots needs their list: a backup whose list cannot be read would
        // lose its objects and keep its snapshots, unreferenced.
        let snapshots = match catalog::volume_snapshots(bucket, &backup).await {
            Ok(snapshots) => snapshots.len(),
            Err(e) => {
                let reason = format!("its volume snapshot list cannot be read: {}", describe(&e));
                report.skipped.push(SkippedBackup { backup: name, reason });
                continue;
            }
        };
        if restore_records.is_none() {
            restore_records = Some(catalog::list_restores(bucket).await?);
        }
        let made_from_it: Vec<ResourceName> =
            restore_records.iter().flatten().filter(|r| r.spec.backup == backup).map(|r| r.name.clone()).collect();
        let restores = made_from_it.iter().map(ToString::to_string).collect();
        if !dry_run && let Err(error) = delete_with_restores(bucket, &backup, &made_from_it, snapshot_locations).await {
            report.failed.push(FailedBackup { backup: name, error });
            continue;
        }
        report.deleted.push(ExpiredBackup { backup: name, expiration, snapshots, restores });
    }
    Ok(report)
}

/// The restores' records first: if the backup's deletion fails or is interrupted, the next run
/// finds the backup again, while restores left behind a deleted backup would never be found.
async fn delete_with_restores(
    bucket: &Bucket,
    backup: &ResourceName,
    made_from_it: &[ResourceName],
    snapshot_locations: &BTreeMap<ResourceName, SnapshotLocation>,
) -> Result<(), String> {
    for restore in made_from_it {
        catalog::delete_restore(bucket, restore)
            .await
            .map_err(|e| format!("delete restore {restore} made from it: {}", describe(&e)))?;
    }
    catalog::delete_backup(bucket, backup, snapshot_locations).await.map_err(|e| describe(&e))?;
    Ok(())
}

/// Collects garbage in the named location, or in every configured one, and drops what it
/// deleted from the local cache. A location that cannot be opened or listed is reported and
/// the others are still collected.
pub(crate) async fn collect_locations(
    config: &Config,
    dirs: &Dirs,
    only: Option<&str>,
    state: &StateFile,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Vec<GcReport>, GcError> {
    let collected = for_each_location(config, dirs, only, |bucket| async move {
        collect_garbage(&bucket, &config.snapshot_locations, now, dry_run).await
    })
    .await?;
    let reports: Vec<GcReport> = collected
        .into_iter()
        .map(|(name, result)| {
            result.unwrap_or_else(|e| GcReport {
                location: name.to_string(),
                dry_run,
                error: Some(describe(&e)),
                ..Default::default()
            })
        })
        .collect();
    if !dry_run && reports.iter().any(|r| !r.deleted.is_empty()) {
        state.update(|s| {
            for report in &reports {
                let backups: Vec<String> = report.deleted.iter().map(|d| d.backup.clone()).collect();
                let restores: Vec<String> = report.deleted.iter().flat_map(|d| d.restores.clone()).collect();
                s.forget(&report.location, &backups, &restores);
            }
            Ok::<_, StateError>(())
        })?;
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupSpec;

    fn record(phase: BackupPhase, expiration: &str) -> BackupRecord {
        let spec = serde_json::from_value::<BackupSpec>(serde_json::json!({"ttl": "1h", "storageLocation": "default"}))
            .unwrap();
        let mut r = BackupRecord::new(ResourceName::parse("b").unwrap(), spec, Utc::now(), "1.1.0");
        r.phase = phase;
        r.expiration = at(expiration);
        r
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn only_readable_expired_backups_that_are_not_in_progress_are_expired() {
        let now = at("2026-11-24T13:00:00Z");
        let cases = [
            (Ok(record(BackupPhase::Completed, "2026-11-24T12:59:59Z")), "expire"),
            (Ok(record(BackupPhase::Completed, "2026-11-24T13:00:00Z")), "expire"),
            (Ok(record(BackupPhase::Failed, "2026-11-01T00:00:00Z")), "expire"),
            (Ok(record(BackupPhase::PartiallyFailed, "2026-11-01T00:00:00Z")), "expire"),
            (Ok(record(BackupPhase::Deleting, "2026-11-01T00:00:00Z")), "expire"),
            (Ok(record(BackupPhase::Completed, "2026-11-24T13:00:01Z")), "keep"),
            (Ok(record(BackupPhase::InProgress, "2026-11-01T00:00:00Z")), "skip"),
            (Err("backups/x/ark-backup.json is not valid JSON".to_owned()), "skip"),
        ];
        for (record, want) in cases {
            let got = match verdict(&record, now) {
                Verdict::Keep => "keep",
                Verdict::Expire(_) => "expire",
                Verdict::Skip(reason) => {
                    assert!(!reason.is_empty());
                    "skip"
                }
            };
            assert_eq!(got, want, "{record:?}");
        }
    }

    #[tokio::test]
    async fn expired_backups_go_with_their_restores_and_the_rest_stays() {
        use crate::model::{RestoreRecord, RestoreSpec};
        use crate::store::BucketLayout;
        let dir = tempfile::tempdir().unwrap();
        let location = crate::config::StorageLocation::directory(dir.path());
        let bucket = Bucket::open(&ResourceName::parse("local").unwrap(), &location).await.unwrap();
        let now = at("2026-11-24T13:00:00Z");
        let put_backup = async |name: &str, expiration: &str| {
            let mut r = record(BackupPhase::Completed, expiration);
            r.name = ResourceName::parse(name).unwrap();
            bucket.put_json(&BucketLayout::backup_record(&r.name), &r).await.unwrap();
            bucket.put(&BucketLayout::archive(&r.name), "archive".into()).await.unwrap();
        };
        put_backup("old", "2026-11-24T12:00:00Z").await;
        put_backup("new", "2026-11-25T12:00:00Z").await;
        bucket.put(&BucketLayout::backup_record(&ResourceName::parse("broken").unwrap()), "{".into()).await.unwrap();
        for (restore, backup) in [("from-old", "old"), ("from-new", "new")] {
            let spec: RestoreSpec = serde_json::from_value(serde_json::json!({"backup": backup})).unwrap();
            let r = RestoreRecord::new(ResourceName::parse(restore).unwrap(), spec, now);
            bucket.put_json(&BucketLayout::restore_record(&r.name), &r).await.unwrap();
        }

        let dry = collect_garbage(&bucket, &BTreeMap::new(), now, true).await.unwrap();
        assert_eq!(dry.deleted.len(), 1);
        assert_eq!(bucket.list_keys(&"backups/old".into()).await.unwrap().len(), 2, "a dry run deletes nothing");

        let report = collect_garbage(&bucket, &BTreeMap::new(), now, false).await.unwrap();
        assert_eq!(
            report.deleted,
            [ExpiredBackup {
                backup: "old".into(),
                expiration: at("2026-11-24T12:00:00Z"),
                snapshots: 0,
                restores: vec!["from-old".into()]
            }]
        );
        assert_eq!(report.kept, 1);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].backup, "broken");
        assert!(bucket.list_keys(&"backups/old".into()).await.unwrap().is_empty());
        let listed: Vec<String> = catalog::list_backups(&bucket).await.unwrap().into_iter().map(|l| l.name).collect();
        assert_eq!(listed, ["new", "broken"], "no empty directory is left to be listed");
        assert!(bucket.list_keys(&"restores/from-old".into()).await.unwrap().is_empty());
        assert!(!bucket.list_keys(&"backups/new".into()).await.unwrap().is_empty());
        assert!(!bucket.list_keys(&"restores/from-new".into()).await.unwrap().is_empty());
        assert!(!bucket.list_keys(&"backups/broken".into()).await.unwrap().is_empty());

        let read_only = Bucket::open(
            &ResourceName::parse("old-cluster").unwrap(),
            &crate::config::StorageLocation { read_only: true, ..location },
        )
        .await
        .unwrap();
        let report = collect_garbage(&read_only, &BTreeMap::new(), at("2030-01-01T00:00:00Z"), false).await.unwrap();
        assert!(report.skipped_location.is_some() && report.deleted.is_empty() && !report.has_failures());
        assert!(!bucket.list_keys(&"backups/new".into()).await.unwrap().is_empty());
    }
}
