//! The restore record (`ark-restore.json`) and the per-object results stored beside it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ResourceName, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RestorePhase {
    InProgress,
    Completed,
    /// Finished, but some objects could not be restored: see the results.
    PartiallyFailed,
    Failed,
}

impl std::fmt::Display for RestorePhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExistingPolicy {
    /// Leave existing objects alone (and report whether they differ from the backup).
    #[default]
    None,
    /// Patch existing objects to the backed-up state.
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RestoreSpec {
    pub(crate) backup: ResourceName,
    #[serde(flatten)]
    pub(crate) scope: Scope,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) namespace_mappings: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) existing_resource_policy: ExistingPolicy,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) restore_status: Vec<String>,
    #[serde(default)]
    pub(crate) preserve_node_ports: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) resource_priorities: Vec<String>,
    #[serde(default)]
    pub(crate) dry_run: bool,
    /// Make new volumes from the backup's volume snapshots for the PVs restored.
    #[serde(default)]
    pub(crate) restore_volumes: bool,
    /// Availability zone for those volumes (default: the zone each was snapshotted in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) volume_az: Option<String>,
}

/// What happened to one object of the backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ItemOutcome {
    Created,
    /// Dry run: the server accepted the create.
    WouldCreate,
    /// Already there and equal to the backup (after cleaning).
    ExistsIdentical,
    /// Already there, different from the backup, left alone (policy none).
    ExistsDifferent,
    Updated,
    WouldUpdate,
    /// Left out on purpose (filters, cleaning rules); the reason says why.
    Skipped,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemResult {
    /// group-resource, e.g. `deployments.apps`.
    pub(crate) resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) outcome: ItemOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RestoreRecord {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) name: ResourceName,
    pub(crate) phase: RestorePhase,
    pub(crate) spec: RestoreSpec,
    pub(crate) start_timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) completion_timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(crate) server: String,
    /// Objects per outcome.
    #[serde(default)]
    pub(crate) counts: BTreeMap<ItemOutcome, u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) errors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_reason: Option<String>,
    pub(crate) ark_version: String,
}

impl RestoreRecord {
    pub(crate) fn new(name: ResourceName, spec: RestoreSpec, now: DateTime<Utc>) -> Self {
        Self {
            api_version: super::backup::RECORD_API_VERSION.to_owned(),
            kind: "Restore".to_owned(),
            name,
            phase: RestorePhase::InProgress,
            spec,
            start_timestamp: now,
            completion_timestamp: None,
            server: String::new(),
            counts: BTreeMap::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
            failure_reason: None,
            ark_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// `restore-<name>-results.gz`: warnings and errors grouped by namespace ("" = cluster-scoped),
/// and every object's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RestoreResults {
    pub(crate) warnings: BTreeMap<String, Vec<String>>,
    pub(crate) errors: BTreeMap<String, Vec<String>>,
    pub(crate) items: Vec<ItemResult>,
}
