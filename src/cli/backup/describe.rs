//! `ark backup describe`: one backup as people read it (its scope, how it went, what it holds,
//! its volume snapshots and hooks), or the record and its lists as JSON or YAML; and the scope
//! and hook summaries `backup create` and `schedule describe` show too.

use std::collections::BTreeMap;

use clap::Args;

use super::super::Ctx;
use super::super::exit::Outcome;
use super::super::flags::ReadLocation;
use super::super::output::{self, human_bytes, human_time};
use crate::model::{
    BackupPhase, BackupRecord, BackupSpec, HookPhase, HookResult, LabelFilter, ResourceName, VolumeSnapshot,
};
use crate::ops::catalog;

#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// The backup to describe.
    pub(crate) name: ResourceName,
    /// Also list every resource type with its object count, each volume snapshot and each hook.
    #[arg(long)]
    pub(crate) details: bool,
    #[command(flatten)]
    pub(crate) location: ReadLocation,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    #[serde(flatten)]
    record: BackupRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_list: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume_snapshots: Option<Vec<VolumeSnapshot>>,
    #[serde(skip)]
    details: bool,
}

pub(super) async fn describe(args: DescribeArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
    let record = catalog::get_backup(&bucket, &args.name).await?;
    let (resource_list, volume_snapshots) = if args.details {
        let resource_list = match catalog::resource_list(&bucket, &args.name).await {
            Ok(list) => Some(list),
            // A backup that failed before its archive was written has no resource list.
            Err(catalog::CatalogError::BackupNotFound { .. }) if record.phase == BackupPhase::Failed => None,
            Err(e) => return Err(e.into()),
        };
        (resource_list, Some(catalog::volume_snapshots(&bucket, &args.name).await?))
    } else {
        (None, None)
    };
    let description = Description { record, resource_list, volume_snapshots, details: args.details };
    output::render(ctx.output, &description, |d| {
        let mut out = summary_text(&d.record, &bucket.url);
        out.push_str(&snapshots_text(d.volume_snapshots.as_deref().unwrap_or_default()));
        out.push_str(&resources_text(&d.record, d.resource_list.as_ref()));
        out.push_str(&hooks_text(&d.record.hooks, d.details));
        out
    })?;
    Ok(Outcome::Success)
}

/// The record, a line per fact, then its problems.
fn summary_text(r: &BackupRecord, url: &str) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: String| out.push_str(&format!("{key:<16}{value}\n"));
    line("Name:", r.name.to_string());
    line("Phase:", r.phase.to_string());
    if let Some(reason) = &r.failure_reason {
        line("Failure:", reason.clone());
    }
    line("Storage:", format!("{} ({url})", r.spec.storage_location));
    for (key, value) in scope_lines(&r.spec) {
        line(key, value);
    }
    line("TTL:", format!("{} (expires {})", r.spec.ttl, human_time(&r.expiration)));
    line("Started:", human_time(&r.start_timestamp));
    if let Some(done) = &r.completion_timestamp {
        line("Completed:", format!("{} ({:.1}s)", human_time(done), (*done - r.start_timestamp).as_seconds_f64()));
    }
    line("Cluster:", format!("{} ({})", r.server, r.server_version));
    let revision = match (&r.revision, r.not_at_revision.is_empty()) {
        (Some(rev), true) => format!("{rev} (every type was listed at this revision)"),
        (Some(rev), false) => format!("{rev} ({} types were not listed at it, see below)", r.not_at_revision.len()),
        (None, _) => "<none>".into(),
    };
    line("Revision:", revision);
    let archive = human_bytes(r.archive_bytes);
    line("Items:", format!("{} in {} types ({archive} archive)", r.items_backed_up, r.resource_counts.len()));
    if !r.hooks.is_empty() {
        line("Hooks:", hooks_summary(&r.hooks));
    }
    if r.items_excluded_by_label > 0 {
        let label = crate::model::EXCLUDE_LABEL;
        line("Excluded:", format!("{} objects labelled {label}=true", r.items_excluded_by_label));
    }
    if r.volume_snapshots_attempted > 0 || !r.volumes_not_snapshotted.is_empty() {
        let location = r.spec.volume_snapshot_location.as_deref().unwrap_or("<none>");
        line(
            "Volumes:",
            format!(
                "{} of {} snapshots completed (location {location}); {} volumes not snapshotted",
                r.volume_snapshots_completed,
                r.volume_snapshots_attempted,
                r.volumes_not_snapshotted.len()
            ),
        );
    }
    for skipped in &r.volumes_not_snapshotted {
        out.push_str(&format!("Not snapshotted: {}: {}\n", skipped.persistent_volume, skipped.reason));
    }
    for (gr, reason) in &r.not_at_revision {
        out.push_str(&format!("Not at revision: {gr}: {reason}\n"));
    }
    for warning in &r.warnings {
        out.push_str(&format!("Warning: {warning}\n"));
    }
    for error in &r.errors {
        out.push_str(&format!("Error: {error}\n"));
    }
    out
}

/// Each volume snapshot (with `--details`).
fn snapshots_text(snapshots: &[VolumeSnapshot]) -> String {
    if snapshots.is_empty() {
        return String::new();
    }
    let mut out = "\nVolume snapshots:\n".to_owned();
    for s in snapshots {
        let status = match &s.error {
            Some(error) => format!("failed: {error}"),
            None => "completed".to_owned(),
        };
        out.push_str(&format!(
            "  {}: {} -> {} ({}, {}{}{}, {}) {status}\n",
            s.persistent_volume,
            s.volume_id,
            if s.snapshot_id.is_empty() { "<none>" } else { &s.snapshot_id },
            s.availability_zone,
            s.volume_type.as_deref().unwrap_or("?"),
            s.size_gib.map(|g| format!(", {g} GiB")).unwrap_or_default(),
            s.iops.map(|i| format!(", {i} IOPS")).unwrap_or_default(),
            if s.encrypted { "encrypted" } else { "not encrypted" },
        ));
    }
    out
}

/// Every object of the resource list (with `--details`), else each type's count.
fn resources_text(r: &BackupRecord, list: Option<&BTreeMap<String, Vec<String>>>) -> String {
    let mut out = "\nResources:\n".to_owned();
    match list {
        Some(list) => {
            for (kind, names) in list {
                out.push_str(&format!("  {kind} ({}):\n", names.len()));
                for name in names {
                    out.push_str(&format!("    - {name}\n"));
                }
            }
        }
        None => {
            for (gr, count) in &r.resource_counts {
                out.push_str(&format!("  {gr:<48} {count}\n"));
            }
        }
    }
    out
}

/// Each hook (with `--details`), else how to see them.
fn hooks_text(hooks: &[HookResult], details: bool) -> String {
    if !details {
        let what = if hooks.is_empty() { "object" } else { "object and hook" };
        return format!("\nUse --details to list every {what}.\n");
    }
    if hooks.is_empty() {
        return String::new();
    }
    let mut out = "\nHooks:\n".to_owned();
    for h in hooks {
        let source = h.hook_spec.as_ref().map(|s| format!("hooks file entry {s:?}")).unwrap_or("annotation".into());
        let command = serde_json::to_string(&h.command).unwrap_or_default();
        out.push_str(&format!(
            "  {:<4} {}/{}, container {} ({source}): {command}\n",
            h.phase, h.namespace, h.pod, h.container
        ));
        let on_error = if h.succeeded() { String::new() } else { format!(" (onError: {})", h.on_error) };
        out.push_str(&format!("       {} in {}{on_error}\n", h.outcome(), h.duration));
        for (stream, text) in [("stdout", &h.stdout), ("stderr", &h.stderr)] {
            if !text.is_empty() {
                out.push_str(&format!("       {stream}: {}\n", text.trim_end().replace('\n', "\n               ")));
            }
        }
    }
    out
}

/// `4 in 2 pods (2 pre, 2 post), 1 failed`.
pub(super) fn hooks_summary(hooks: &[HookResult]) -> String {
    let pods: std::collections::BTreeSet<(&str, &str)> =
        hooks.iter().map(|h| (h.namespace.as_str(), h.pod.as_str())).collect();
    let pre = hooks.iter().filter(|h| h.phase == HookPhase::Pre).count();
    let failed = hooks.iter().filter(|h| !h.succeeded()).count();
    format!("{} in {} pods ({pre} pre, {} post), {failed} failed", hooks.len(), pods.len(), hooks.len() - pre)
}

/// What a backup spec covers, as `describe` shows it (backups and schedules alike).
pub(crate) fn scope_lines(spec: &BackupSpec) -> Vec<(&'static str, String)> {
    let list = |include: Vec<String>, exclude: Vec<String>| {
        let include = if include.is_empty() { "*".to_owned() } else { include.join(", ") };
        let exclude = if exclude.is_empty() { "<none>".to_owned() } else { exclude.join(", ") };
        format!("included: {include}; excluded: {exclude}")
    };
    let scope = &spec.scope;
    let texts = |patterns: &[crate::model::NamePattern]| patterns.iter().map(ToString::to_string).collect();
    let cluster_scoped = match scope.include_cluster_resources {
        Some(true) => "included",
        Some(false) => "excluded",
        None => "auto",
    };
    let mut lines = vec![
        ("Namespaces:", list(texts(&scope.namespaces.include), texts(&scope.namespaces.exclude))),
        ("Resources:", list(scope.resources.include.clone(), scope.resources.exclude.clone())),
        ("Cluster-scoped:", cluster_scoped.to_owned()),
        ("Label selector:", labels_text(&scope.labels)),
    ];
    if !spec.hooks.is_empty() {
        let names: Vec<&str> = spec.hooks.iter().map(|h| h.name.as_str()).collect();
        lines.push(("Hooks file:", names.join(", ")));
    }
    lines
}

/// `app=web or tier=db`, or `<none>`.
pub(super) fn labels_text(labels: &LabelFilter) -> String {
    let mut parts: Vec<String> = labels.selector.iter().map(ToString::to_string).collect();
    parts.extend(labels.or_selectors.iter().map(|s| format!("or {s}")));
    if parts.is_empty() { "<none>".into() } else { parts.join(" ") }
}
