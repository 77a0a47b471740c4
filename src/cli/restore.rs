//! `ark restore ...`: restore from a backup, and list, describe, fetch the logs of and delete
//! restores.

use clap::{Args, Subcommand};

use crate::model::{
    BackupPhase, ExistingPolicy, HumanDuration, ItemOutcome, ItemResult, ResourceName, RestorePhase, RestoreRecord,
    RestoreResults, RestoreSpec,
};
use crate::ops::catalog;
use crate::ops::restore::{RestoreRequest, create_restore};

use super::Ctx;
use super::exit::{Outcome, usage};
use super::flags::{DeleteLocation, FilterArgs, ReadLocation};
use super::output::{self, OutputFormat, Table, human_duration, human_time, phase_words};
use super::progress::RestoreReporter;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Restore objects from a backup into the cluster.
    #[command(after_help = "Examples:\n  ark restore create --from-backup pre-upgrade-1-31\n  \
ark restore create shop-copy --from-backup shop --namespace-mappings shop:shop-copy\n  \
ark restore create --from-backup shop --dry-run -o yaml")]
    Create(Box<CreateArgs>),
    /// List restores.
    Get(GetArgs),
    /// Show one restore: phase, counts, warnings and errors per namespace.
    Describe(NameArgs),
    /// Print a restore's log.
    Logs(NameArgs),
    /// Delete restore records (the restored objects stay in the cluster).
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Name of the restore (default: BACKUP-YYYYMMDDhhmmss).
    pub(crate) name: Option<ResourceName>,
    /// The backup to restore from (on a terminal, without it, ark offers the backups to pick from).
    #[arg(long, value_name = "BACKUP")]
    pub(crate) from_backup: Option<ResourceName>,
    #[command(flatten)]
    pub(crate) filters: FilterArgs,
    /// Move namespaces: OLD:NEW pairs, comma-separated (`shop:shop-copy,db:db-copy`).
    #[arg(long, value_delimiter = ',', value_name = "OLD:NEW")]
    pub(crate) namespace_mappings: Vec<String>,
    /// What to do with objects that already exist: `none` skips them (and reports whether they
    /// differ), `update` patches them to the backed-up state.
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = PolicyArg::None)]
    pub(crate) existing_resource_policy: PolicyArg,
    /// Keep the status of these resources (comma-separated) instead of dropping it.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE")]
    pub(crate) restore_status: Vec<String>,
    /// Keep Service node ports as they were in the backup.
    #[arg(long)]
    pub(crate) preserve_nodeports: bool,
    /// Restore order, comma-separated resources, overriding the documented default.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE")]
    pub(crate) resource_priorities: Vec<String>,
    /// Do everything but create: show what would be created, skipped or updated, checked by the
    /// server (server-side dry run).
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Stop at the first object that fails (by default a failed object never stops the others).
    #[arg(long)]
    pub(crate) fail_fast: bool,
    /// Restore from a backup that is Failed or still InProgress: whatever its archive holds.
    #[arg(long)]
    pub(crate) allow_partial: bool,
    /// Make new volumes from the backup's volume snapshots for the persistent volumes restored;
    /// `--restore-volumes=false` restores the PVs as they were, pointing at the old disks.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_value = "true", default_missing_value = "true")]
    pub(crate) restore_volumes: bool,
    /// Availability zone for the new volumes (default: the zone each volume was snapshotted in).
    #[arg(long, value_name = "ZONE")]
    pub(crate) volume_az: Option<String>,
    /// How long to wait for a Terminating namespace to go or a CRD to become Established.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub(crate) wait_timeout: HumanDuration,
    /// Storage location to read the backup from (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum PolicyArg {
    None,
    Update,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Restores to show (default: all).
    pub(crate) names: Vec<String>,
    #[command(flatten)]
    pub(crate) location: ReadLocation,
}

#[derive(Debug, Args)]
pub(crate) struct NameArgs {
    /// The restore.
    pub(crate) name: ResourceName,
    #[command(flatten)]
    pub(crate) location: ReadLocation,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Restores to delete.
    #[arg(required = true)]
    pub(crate) names: Vec<ResourceName>,
    #[command(flatten)]
    pub(crate) location: DeleteLocation,
}

pub(crate) async fn run(cmd: Command, ctx: &Ctx) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Create(args) => create(*args, ctx).await,
        Command::Get(args) => get(args, ctx).await,
        Command::Describe(args) => describe(args, ctx).await,
        Command::Logs(args) => {
            let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
            output::print(&catalog::restore_log(&bucket, &args.name).await?)?;
            Ok(Outcome::Success)
        }
        Command::Delete(args) => {
            let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
            for name in &args.names {
                catalog::delete_restore(&bucket, name).await?;
                eprintln!("restore {name} deleted (restored objects stay in the cluster)");
            }
            Ok(Outcome::Success)
        }
    }
}

/// Offers the restorable backups of the location, newest first.
async fn pick_backup(bucket: &crate::store::Bucket, ctx: &Ctx) -> anyhow::Result<ResourceName> {
    let mut records: Vec<_> = catalog::list_backups(bucket)
        .await?
        .into_iter()
        .filter_map(|listed| listed.record.ok())
        .filter(|r| matches!(r.phase, BackupPhase::Completed | BackupPhase::PartiallyFailed))
        .collect();
    if records.is_empty() {
        anyhow::bail!("storage location {} holds no backup to restore from (see `ark backup get`)", bucket.name);
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.start_timestamp));
    let items: Vec<String> = records
        .iter()
        .map(|r| {
            format!("{:<40} {:<16} {}  {} items", r.name, r.phase, human_time(&r.start_timestamp), r.items_backed_up)
        })
        .collect();
    let index = ctx.pick(&format!("Restore from which backup in {}?", bucket.name), &items)?;
    Ok(records.swap_remove(index).name)
}

/// What a restore will do, for the person confirming it.
fn restore_summary(spec: &RestoreSpec, server: &str) -> String {
    let mut text = format!("Restore backup {} into {server}", spec.backup);
    if !spec.namespace_mappings.is_empty() {
        let mappings: Vec<String> = spec.namespace_mappings.iter().map(|(a, b)| format!("{a} -> {b}")).collect();
        text.push_str(&format!(", moving namespaces {}", mappings.join(", ")));
    }
    text.push_str(match spec.existing_resource_policy {
        ExistingPolicy::None => "; objects that already exist are left alone",
        ExistingPolicy::Update => "; objects that already exist are UPDATED to the backed-up state",
    });
    text.push_str(". Go ahead?");
    text
}

async fn create(args: CreateArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let bucket = ctx.bucket(&config, args.storage_location.as_deref()).await?;
    let backup = match args.from_backup.clone() {
        Some(backup) => backup,
        None if ctx.interactive() => pick_backup(&bucket, ctx).await?,
        None => return Err(usage("name the backup to restore with --from-backup (see `ark backup get`)")),
    };
    let now = chrono::Utc::now();
    let name = match &args.name {
        Some(name) => name.clone(),
        None => default_name(&bucket, &backup, now).await?,
    };
    let spec = restore_spec(&args, backup)?;
    let conn = ctx.connect(&config).await?;
    if !spec.dry_run && ctx.interactive() && !ctx.confirm(&restore_summary(&spec, &conn.server))? {
        anyhow::bail!("nothing restored");
    }
    let reporter = RestoreReporter::new(ctx.output, name.as_str());
    let request = RestoreRequest {
        name: name.clone(),
        spec,
        allow_partial: args.allow_partial,
        wait_timeout: args.wait_timeout.0,
        fail_fast: args.fail_fast,
        snapshot_locations: config.snapshot_locations.clone(),
    };
    let started = std::time::Instant::now();
    let result =
        create_restore(&conn, &bucket, request, &config.tuning, &reporter, super::interrupt_token(), now).await;
    reporter.reporter.finish();
    let (record, results) = result?;
    // Every object's outcome is read back only when it is shown: a dry run's table, or -o json|yaml.
    let results = if record.spec.dry_run || !matches!(ctx.output, OutputFormat::Table) {
        results.decode()?
    } else {
        RestoreResults::default()
    };
    #[derive(serde::Serialize)]
    struct Report<'a> {
        #[serde(flatten)]
        record: &'a RestoreRecord,
        results: &'a RestoreResults,
    }
    let seconds = started.elapsed().as_secs_f64();
    output::render(ctx.output, &Report { record: &record, results: &results }, |r| {
        created_text(r.record, r.results, seconds)
    })?;
    Ok(match record.phase {
        RestorePhase::Completed => Outcome::Success,
        RestorePhase::PartiallyFailed => Outcome::PartiallyFailed,
        _ => Outcome::Failed,
    })
}

/// The spec `restore create`'s flags ask for.
fn restore_spec(args: &CreateArgs, backup: ResourceName) -> anyhow::Result<RestoreSpec> {
    Ok(RestoreSpec {
        backup,
        scope: args.filters.scope()?,
        namespace_mappings: namespace_mappings(&args.namespace_mappings)?,
        existing_resource_policy: match args.existing_resource_policy {
            PolicyArg::None => ExistingPolicy::None,
            PolicyArg::Update => ExistingPolicy::Update,
        },
        restore_status: args.restore_status.clone(),
        preserve_node_ports: args.preserve_nodeports,
        resource_priorities: args.resource_priorities.clone(),
        dry_run: args.dry_run,
        restore_volumes: args.restore_volumes,
        volume_az: args.volume_az.clone(),
    })
}

/// What `restore create` prints for people: a dry run's objects, then how it went.
fn created_text(record: &RestoreRecord, results: &RestoreResults, seconds: f64) -> String {
    let mut text = String::new();
    if record.spec.dry_run {
        text.push_str(&items_table(&results.items, true));
    }
    text.push_str(&format!(
        "Restore {}{} {} in {seconds:.1}s: {}.\n",
        record.name,
        if record.spec.dry_run { " (dry run, nothing changed)" } else { "" },
        phase_words(&record.phase.to_string()),
        counts_text(&record.counts)
    ));
    if let Some(reason) = &record.failure_reason {
        text.push_str(&format!("Failure: {reason}\n"));
    }
    for error in &record.errors {
        text.push_str(&format!("Error: {error}\n"));
    }
    if !record.spec.dry_run {
        text.push_str(&format!("Details: ark restore describe {}\n", record.name));
    }
    text
}

/// `BACKUP-YYYYMMDDhhmmss`, with `-2`, `-3`... when restores of that backup started within the
/// same second (scripts do that).
async fn default_name(
    bucket: &crate::store::Bucket,
    backup: &ResourceName,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<ResourceName> {
    let base = format!("{backup}-{}", now.format("%Y%m%d%H%M%S"));
    for n in 1..100 {
        let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let name = ResourceName::parse(&candidate)
            .map_err(|e| usage(format!("default restore name: {e}; name the restore explicitly")))?;
        match catalog::get_restore(bucket, &name).await {
            Err(catalog::CatalogError::RestoreNotFound { .. }) => return Ok(name),
            Err(e) => return Err(e.into()),
            Ok(_) => continue,
        }
    }
    Err(usage(format!("restores {base}-2 to -99 exist; name the restore explicitly")))
}

fn counts_text(counts: &std::collections::BTreeMap<ItemOutcome, u64>) -> String {
    if counts.is_empty() {
        return "nothing to restore".into();
    }
    counts.iter().map(|(outcome, n)| format!("{n} {}", outcome_text(*outcome))).collect::<Vec<_>>().join(", ")
}

fn outcome_text(outcome: ItemOutcome) -> &'static str {
    match outcome {
        ItemOutcome::Created => "created",
        ItemOutcome::WouldCreate => "would create",
        ItemOutcome::ExistsIdentical => "exist identical",
        ItemOutcome::ExistsDifferent => "exist different",
        ItemOutcome::Updated => "updated",
        ItemOutcome::WouldUpdate => "would update",
        ItemOutcome::Skipped => "skipped",
        ItemOutcome::Failed => "failed",
    }
}

fn items_table(items: &[ItemResult], all: bool) -> String {
    let mut table = Table::new(&["RESOURCE", "NAMESPACE", "NAME", "OUTCOME", "MESSAGE"]);
    let mut sorted: Vec<&ItemResult> = items.iter().filter(|i| all || i.outcome != ItemOutcome::Created).collect();
    sorted.sort_by(|a, b| (&a.resource, &a.namespace, &a.name).cmp(&(&b.resource, &b.namespace, &b.name)));
    for item in sorted {
        table.row(vec![
            item.resource.clone(),
            item.namespace.clone().unwrap_or_default(),
            item.name.clone(),
            outcome_text(item.outcome).to_owned(),
            item.message.clone().unwrap_or_default(),
        ]);
    }
    table.render()
}

async fn get(args: GetArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
    let mut records = catalog::list_restores(&bucket).await?;
    if !args.names.is_empty() {
        records.retain(|r| args.names.iter().any(|n| n == r.name.as_str()));
    }
    output::render(ctx.output, &records, |records| {
        if records.is_empty() {
            return format!("No restores in storage location {}.\n", bucket.name);
        }
        let now = chrono::Utc::now();
        let mut table = Table::new(&["NAME", "BACKUP", "STATUS", "ERRORS", "WARNINGS", "AGE"]);
        for r in records {
            table.row(vec![
                r.name.to_string(),
                r.spec.backup.to_string(),
                r.phase.to_string(),
                r.errors.len().to_string(),
                r.warnings.len().to_string(),
                human_duration(now - r.start_timestamp),
            ]);
        }
        table.render()
    })?;
    Ok(Outcome::Success)
}

async fn describe(args: NameArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
    let (record, results) = catalog::get_restore(&bucket, &args.name).await?;
    #[derive(serde::Serialize)]
    struct Description {
        #[serde(flatten)]
        record: RestoreRecord,
        results: RestoreResults,
    }
    let description = Description { record, results };
    output::render(ctx.output, &description, |d| {
        let r = &d.record;
        let mut out = String::new();
        let mut line = |key: &str, value: String| out.push_str(&format!("{key:<14}{value}\n"));
        line("Name:", r.name.to_string());
        line("Backup:", r.spec.backup.to_string());
        line("Phase:", r.phase.to_string());
        if let Some(reason) = &r.failure_reason {
            line("Failure:", reason.clone());
        }
        line("Cluster:", r.server.clone());
        line("Started:", human_time(&r.start_timestamp));
        if let Some(done) = &r.completion_timestamp {
            line("Completed:", human_time(done));
        }
        if !r.spec.namespace_mappings.is_empty() {
            let mappings: Vec<String> = r.spec.namespace_mappings.iter().map(|(a, b)| format!("{a}:{b}")).collect();
            line("Mappings:", mappings.join(", "));
        }
        line("Objects:", counts_text(&r.counts));
        for (scope, messages) in d.results.warnings.iter().chain(&d.results.errors) {
            let scope = if scope.is_empty() { "cluster".to_owned() } else { format!("namespace {scope}") };
            for message in messages {
                out.push_str(&format!("{scope}: {message}\n"));
            }
        }
        out.push_str("\nObjects not simply created:\n");
        out.push_str(&items_table(&d.results.items, false));
        out
    })?;
    Ok(Outcome::Success)
}

/// `--namespace-mappings`' `OLD:NEW` pairs; a pair that is not one, a new name that is not a
/// namespace name and a namespace mapped twice are usage errors.
fn namespace_mappings(pairs: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut mappings = std::collections::BTreeMap::new();
    for pair in pairs {
        let (old, new) = pair
            .split_once(':')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
            .ok_or_else(|| usage(format!("namespace mapping {pair:?} is not OLD:NEW")))?;
        ResourceName::parse(new).map_err(|e| usage(format!("namespace mapping {pair:?}: {e}")))?;
        if mappings.insert(old.to_owned(), new.to_owned()).is_some() {
            return Err(usage(format!("namespace {old} is mapped twice")));
        }
    }
    Ok(mappings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_parse_and_reject_bad_pairs() {
        let ok = namespace_mappings(&["a:b".into(), "c:d".into()]).unwrap();
        assert_eq!(ok.get("a").map(String::as_str), Some("b"));
        for bad in ["a", "a:", ":b", "a:B_AD"] {
            assert!(namespace_mappings(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(namespace_mappings(&["a:b".into(), "a:c".into()]).is_err());
    }
}
