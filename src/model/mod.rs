//! Plain data shared by every layer: validated names, durations, resource identities, filters
//! and the scope they make up, cron expressions, backup, restore and schedule records. Nothing
//! here does I/O.

mod backup;
mod cron_expr;
mod duration;
mod filters;
mod hooks;
mod labels;
mod names;
mod resource;
mod restore;
mod schedule;
mod scope;
mod snapshot;

pub(crate) use backup::{BackupPhase, BackupRecord, BackupSpec};
pub(crate) use cron_expr::{CronError, CronExpr, parse_timezone};
pub(crate) use duration::{DurationError, HumanDuration};
pub(crate) use filters::{NamePattern, NamespaceFilter, PatternError, ResourceFilter};
pub(crate) use hooks::{
    DEFAULT_HOOK_TIMEOUT, ExecHook, HookErrorMode, HookPhase, HookResult, PodHookSpec, annotation_hook,
    parse_hooks_file,
};
pub(crate) use labels::{EXCLUDE_LABEL, LabelFilter, LabelSelector, SelectorError, is_excluded_by_label};
pub(crate) use names::{NameError, ResourceName, short_hash};
pub(crate) use resource::{GroupResource, ResourceType};
pub(crate) use restore::{
    ExistingPolicy, ItemOutcome, ItemResult, RestorePhase, RestoreRecord, RestoreResults, RestoreSpec,
};
pub(crate) use schedule::{LastBackup, MAX_SCHEDULE_NAME_LEN, ScheduleRecord};
pub(crate) use scope::{CRDS, ClusterDependencies, OutOfScope, Scope};
pub(crate) use snapshot::{SnapshotPhase, VolumeNotSnapshotted, VolumeSnapshot};
