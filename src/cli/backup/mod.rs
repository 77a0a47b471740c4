//! `ark backup ...`: create, list, describe (`describe`), fetch the logs of, download and delete
//! backups.

mod describe;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::model::{BackupPhase, BackupRecord, BackupSpec, HumanDuration, PodHookSpec, ResourceName, parse_hooks_file};
use crate::ops::backup::{BackupRequest, create_backup};
use crate::ops::catalog;

use super::Ctx;
use super::exit::{Outcome, usage};
use super::flags::{DeleteLocation, FilterArgs, ReadLocation};
use super::output::{self, Table, human_bytes, human_duration, phase_words};
use super::progress::BackupReporter;
pub(crate) use describe::scope_lines;
use describe::{DescribeArgs, hooks_summary, labels_text};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Back up the cluster (or part of it) into a storage location.
    #[command(after_help = "Examples:\n  ark backup create pre-upgrade-1-31\n  \
ark backup create shop --include-namespaces shop,shop-db --ttl 72h\n  \
ark backup create web-only -n shop -l app=web\n  \
ark backup create shop-db -n shop --hooks hooks.yaml")]
    Create(CreateArgs),
    /// List backups (from the storage location, the source of truth).
    Get(GetArgs),
    /// Show one backup: phase, filters, counts, warnings, the revision it was taken at.
    Describe(DescribeArgs),
    /// Print a backup's log.
    Logs(NameArgs),
    /// Download a backup's archive to a local file.
    Download(DownloadArgs),
    /// Delete backups: their objects in the bucket and their volume snapshots.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Name of the backup (a DNS-1123 label).
    pub(crate) name: ResourceName,
    #[command(flatten)]
    pub(crate) options: BackupOptions,
}

/// What a backup takes and where it goes: the flags `backup create` and `schedule create` share.
#[derive(Debug, Args)]
pub(crate) struct BackupOptions {
    #[command(flatten)]
    pub(crate) filters: FilterArgs,
    /// How long to keep the backup; its expiration is recorded with it (default: the config's defaultTtl,
    /// else 720h).
    #[arg(long, value_name = "DURATION")]
    pub(crate) ttl: Option<HumanDuration>,
    /// Storage location to write to (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    pub(crate) storage_location: Option<String>,
    /// Snapshot the disks of the persistent volumes in the backup (default: true when a volume
    /// snapshot location is configured or named); `--snapshot-volumes=false` takes none.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) snapshot_volumes: Option<bool>,
    /// Volume snapshot location to take the snapshots through (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_VOLUME_SNAPSHOT_LOCATION")]
    pub(crate) volume_snapshot_location: Option<String>,
    /// A YAML file of hooks: commands run in the containers of pods chosen by namespace and label
    /// selector, before and after the backup (see the README). A pod's own hook annotations
    /// (`pre.hook.backup.ark.heptio.com/command`...) take precedence.
    #[arg(long, value_name = "FILE")]
    pub(crate) hooks: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Backups to show (default: all).
    pub(crate) names: Vec<String>,
    #[command(flatten)]
    pub(crate) location: ReadLocation,
}

#[derive(Debug, Args)]
pub(crate) struct NameArgs {
    /// The backup.
    pub(crate) name: ResourceName,
    #[command(flatten)]
    pub(crate) location: ReadLocation,
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The backup to download.
    pub(crate) name: ResourceName,
    /// Where to write the archive (default: ./NAME.tar.gz).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) location: ReadLocation,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Backups to delete.
    #[arg(required_unless_present = "all")]
    pub(crate) names: Vec<ResourceName>,
    /// Delete every backup in the storage location.
    #[arg(long, conflicts_with = "names")]
    pub(crate) all: bool,
    /// Delete without asking (the same as the global --yes).
    #[arg(long)]
    pub(crate) confirm: bool,
    #[command(flatten)]
    pub(crate) location: DeleteLocation,
}

pub(crate) async fn run(cmd: Command, ctx: &Ctx) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Create(args) => create(args, ctx).await,
        Command::Get(args) => get(args, ctx).await,
        Command::Describe(args) => describe::describe(args, ctx).await,
        Command::Logs(args) => {
            let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
            output::print(&catalog::backup_log(&bucket, &args.name).await?)?;
            Ok(Outcome::Success)
        }
        Command::Download(args) => download(args, ctx).await,
        Command::Delete(args) => delete(args, ctx).await,
    }
}

/// The spec a `backup create` (or a schedule) asks for, with the config's defaults applied;
/// `location` is the storage location the options resolved to.
pub(crate) fn backup_spec(
    options: &BackupOptions,
    location: &str,
    config: &crate::config::Config,
) -> anyhow::Result<BackupSpec> {
    let snapshot_location = options
        .volume_snapshot_location
        .clone()
        .or_else(|| config.default_snapshot_location.as_ref().map(ToString::to_string));
    if let Some(name) = &snapshot_location
        && !config.snapshot_locations.keys().any(|k| k.as_str() == name)
    {
        let known: Vec<&str> = config.snapshot_locations.keys().map(ResourceName::as_str).collect();
        return Err(usage(format!(
            "volume snapshot location {name:?} is not configured (configured: {}); add it with `ark config set-snapshot-location`",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )));
    }
    let snapshot_volumes = options.snapshot_volumes.unwrap_or(snapshot_location.is_some());
    if snapshot_volumes && snapshot_location.is_none() {
        return Err(usage(
            "--snapshot-volumes needs a volume snapshot location: pass --volume-snapshot-location NAME or set a default \
with `ark config set-snapshot-location NAME --provider aws --region R --default`",
        ));
    }
    Ok(BackupSpec {
        scope: options.filters.scope()?,
        ttl: options.ttl.unwrap_or_else(|| config.ttl()),
        storage_location: location.to_owned(),
        snapshot_volumes,
        volume_snapshot_location: snapshot_location.filter(|_| snapshot_volumes),
        schedule: None,
        hooks: options.hooks.as_deref().map(read_hooks_file).transpose()?.unwrap_or_default(),
    })
}

/// The entries of a hooks file; one that cannot be read or is invalid is a usage error naming it.
fn read_hooks_file(path: &Path) -> anyhow::Result<Vec<PodHookSpec>> {
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("read hooks file {}: {e}", path.display())))?;
    parse_hooks_file(&text).map_err(|problem| usage(format!("invalid hooks file {}: {problem}", path.display())))
}

async fn create(args: CreateArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let bucket = ctx.bucket(&config, args.options.storage_location.as_deref()).await?;
    let spec = backup_spec(&args.options, bucket.name.as_str(), &config)?;
    let conn = ctx.connect(&config).await?;
    let reporter = BackupReporter::new(ctx.output, args.name.as_str());
    let cancel = super::interrupt_token();
    let request =
        BackupRequest { name: args.name.clone(), spec, snapshot_locations: config.snapshot_locations.clone() };
    let started = std::time::Instant::now();
    let result = create_backup(&conn, &bucket, request, &config.tuning, &reporter, cancel, chrono::Utc::now()).await;
    reporter.reporter.finish();
    let record = result?;
    output::render(ctx.output, &record, |r| {
        let warnings = match r.warnings.len() {
            0 => String::new(),
            1 => " with 1 warning".to_owned(),
            n => format!(" with {n} warnings"),
        };
        let mut text = format!(
            "Backup {} {}{warnings}: {} items, {} archive, in {:.1}s, stored in {} ({}).\n",
            r.name,
            phase_words(&r.phase.to_string()),
            r.items_backed_up,
            human_bytes(r.archive_bytes),
            started.elapsed().as_secs_f64(),
            bucket.name,
            bucket.url
        );
        if let Some(reason) = &r.failure_reason {
            text.push_str(&format!("Failure: {reason}\n"));
        }
        for error in &r.errors {
            text.push_str(&format!("Error: {error}\n"));
        }
        if !r.hooks.is_empty() {
            text.push_str(&format!("Hooks: {}\n", hooks_summary(&r.hooks)));
        }
        text.push_str(&format!("Details: ark backup describe {}\n", r.name));
        text
    })?;
    Ok(phase_outcome(record.phase))
}

pub(crate) fn phase_outcome(phase: BackupPhase) -> Outcome {
    match phase {
        BackupPhase::Completed => Outcome::Success,
        BackupPhase::PartiallyFailed => Outcome::PartiallyFailed,
        _ => Outcome::Failed,
    }
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum GetRow {
    Record(Box<BackupRecord>),
    Unreadable { name: String, error: String },
}

async fn get(args: GetArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
    let mut rows: Vec<GetRow> = Vec::new();
    for listed in catalog::list_backups(&bucket).await? {
        if !args.names.is_empty() && !args.names.contains(&listed.name) {
            continue;
        }
        rows.push(match listed.record {
            Ok(record) => GetRow::Record(Box::new(record)),
            Err(error) => GetRow::Unreadable { name: listed.name, error },
        });
    }
    if let Some(missing) = args.names.iter().find(|n| !rows.iter().any(|r| row_name(r) == n.as_str())) {
        anyhow::bail!("backup {missing} not found in storage location {}", bucket.name);
    }
    let now = chrono::Utc::now();
    output::render(ctx.output, &rows, |rows| {
        // Fits 80 columns for the usual names; the location is the one asked for, so not a column.
        let mut table = Table::new(&["NAME", "STATUS", "ERRORS", "WARNINGS", "AGE", "EXPIRES", "SELECTOR"]);
        for row in rows {
            match row {
                GetRow::Record(r) => table.row(vec![
                    r.name.to_string(),
                    r.phase.to_string(),
                    r.errors.len().to_string(),
                    r.warnings.len().to_string(),
                    human_duration(now - r.start_timestamp),
                    human_duration(r.expiration - now),
                    labels_text(&r.spec.scope.labels),
                ]),
                GetRow::Unreadable { name, error } => table.row(vec![name.clone(), format!("Unreadable: {error}")]),
            }
        }
        if rows.is_empty() { format!("No backups in storage location {}.\n", bucket.name) } else { table.render() }
    })?;
    Ok(Outcome::Success)
}

fn row_name(row: &GetRow) -> &str {
    match row {
        GetRow::Record(r) => r.name.as_str(),
        GetRow::Unreadable { name, .. } => name,
    }
}

async fn download(args: DownloadArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let bucket = ctx.bucket(&ctx.config()?, args.location.name()).await?;
    let path = args.file.unwrap_or_else(|| PathBuf::from(format!("{}.tar.gz", args.name)));
    let reporter = super::progress::Reporter::new(ctx.output);
    let bytes = catalog::download_archive(&bucket, &args.name, &path, args.force, |done, total| {
        let total = total.map(|t| format!(" of {}", human_bytes(t))).unwrap_or_default();
        reporter.update(format!("downloading {}: {}{total}", args.name, human_bytes(done)));
    })
    .await?;
    reporter.finish();
    #[derive(serde::Serialize)]
    struct Downloaded {
        path: String,
        bytes: u64,
    }
    let result = Downloaded { path: path.display().to_string(), bytes };
    output::render(ctx.output, &result, |d| {
        format!("Backup {} downloaded to {} ({}).\n", args.name, d.path, human_bytes(d.bytes))
    })?;
    Ok(Outcome::Success)
}

async fn delete(args: DeleteArgs, ctx: &Ctx) -> anyhow::Result<Outcome> {
    let config = ctx.config()?;
    let bucket = ctx.bucket(&config, args.location.name()).await?;
    let names: Vec<ResourceName> = if args.all {
        catalog::list_backups(&bucket).await?.into_iter().filter_map(|l| ResourceName::parse(&l.name).ok()).collect()
    } else {
        args.names
    };
    if !args.confirm
        && !ctx.confirm(&format!(
            "Delete {} backup(s) from storage location {}: {}?",
            names.len(),
            bucket.name,
            join(&names)
        ))?
    {
        anyhow::bail!("nothing deleted");
    }
    for name in &names {
        let deleted = catalog::delete_backup(&bucket, name, &config.snapshot_locations).await?;
        eprintln!("backup {name} deleted ({} objects, {} volume snapshots)", deleted.objects, deleted.snapshots);
    }
    Ok(Outcome::Success)
}

fn join(names: &[ResourceName]) -> String {
    names.iter().map(ResourceName::as_str).collect::<Vec<_>>().join(", ")
}
