//! The command line: argument definitions (clap), rendering (tables, JSON/YAML), progress and
//! exit codes. The only layer that knows about terminals; every verb parses its arguments,
//! calls one library operation and renders what it returns.

mod backup;
mod completion;
mod config;
mod context;
mod daemon;
mod exit;
mod flags;
#[cfg(test)]
mod generated;
mod output;
mod progress;
mod restore;
mod schedule;
mod version;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub(crate) use context::Ctx;
pub(crate) use output::OutputFormat;

/// Back up and restore Kubernetes clusters from the outside.
///
/// ark is one binary you run against a kubeconfig: it lists every resource the cluster serves,
/// writes them as a tar.gz into a bucket (S3, GCS, Azure or a local directory), snapshots EBS
/// volumes, and restores all of it into the same cluster or another one. Nothing is installed in
/// the cluster. The bucket is the source of truth: any machine with access to it can list,
/// describe, restore and expire the backups in it.
#[derive(Debug, Parser)]
#[command(name = "ark", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = "Exit codes: 0 success, 1 failure, 2 usage or configuration error, \
3 partially failed (the operation finished, but some items failed).")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every verb understands, named as kubectl names them.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the
    /// in-cluster service account).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// Output format for results on stdout.
    #[arg(short, long, global = true, value_enum, default_value_t = OutputFormat::Table, env = "ARK_OUTPUT")]
    pub(crate) output: OutputFormat,
    /// ark's configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml).
    #[arg(long, global = true, value_name = "FILE", env = "ARK_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// More detail on stderr: -v for info, -vv for debug, -vvv for trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Never prompt: assume yes to confirmations (prompts only ever appear on a terminal).
    #[arg(short = 'y', long, global = true, env = "ARK_YES")]
    pub(crate) yes: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create, list, inspect, download and delete backups.
    #[command(subcommand)]
    Backup(backup::Command),
    /// Restore from a backup, and list, inspect and delete restores.
    #[command(subcommand)]
    Restore(restore::Command),
    /// Manage schedules that `ark daemon` turns into backups.
    #[command(subcommand)]
    Schedule(schedule::Command),
    /// Run due schedules, expire backups past their TTL and sync, until stopped.
    Daemon(daemon::DaemonArgs),
    /// Refresh the local cache of backups and restores from every storage location.
    Sync(daemon::SyncArgs),
    /// Delete every backup past its expiration, with its snapshots and restores.
    Gc(daemon::GcArgs),
    /// View and change ark's configuration: storage and volume snapshot locations, defaults.
    #[command(subcommand)]
    Config(config::Command),
    /// Print shell completions for bash, zsh, fish, elvish or PowerShell.
    Completion(completion::CompletionArgs),
    /// Print ark's version and the version of the cluster it talks to.
    Version(version::VersionArgs),
}

pub(crate) fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    // One thread for all the I/O (archive compression runs on a blocking thread of its own): a
    // multi-threaded runtime spent a quarter more CPU handing response bodies between threads,
    // and ark shares its cores with the apiserver it reads (docs/BENCHMARKS.md).
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return exit::report(&anyhow::Error::new(e).context("start the async runtime")),
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => code.into(),
        Err(e) => exit::report(&e),
    }
}

async fn run(cli: Cli) -> anyhow::Result<exit::Outcome> {
    let ctx = Ctx::new(cli.global)?;
    match cli.command {
        Command::Backup(cmd) => backup::run(cmd, &ctx).await,
        Command::Restore(cmd) => restore::run(cmd, &ctx).await,
        Command::Schedule(cmd) => schedule::run(cmd, &ctx).await,
        Command::Daemon(args) => daemon::run_daemon(args, &ctx).await,
        Command::Sync(args) => daemon::run_sync(args, &ctx).await,
        Command::Gc(args) => daemon::run_gc(args, &ctx).await,
        Command::Config(cmd) => config::run(cmd, &ctx).await,
        Command::Completion(args) => completion::run(args),
        Command::Version(args) => version::run(args, &ctx).await,
    }
}

/// A token cancelled by the first Ctrl-C or SIGTERM, so a long operation can stop cleanly and
/// say so in its record instead of leaving it half-written.
pub(crate) fn interrupt_token() -> tokio_util::sync::CancellationToken {
    use tokio::signal::unix::{SignalKind, signal};
    let token = tokio_util::sync::CancellationToken::new();
    // Registered here, not in the task below: a signal that comes before that task first runs
    // (the daemon has said it started, and a script stops it) must already be ours.
    let (Ok(mut interrupt), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return token;
    };
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("interrupted: stopping cleanly (interrupt again to abort at once)");
        cancel.cancel();
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
        std::process::exit(130);
    });
    token
}

fn init_logging(verbose: u8) {
    // kube logs every 5xx answer as an error of its own; ark reports each failure itself, with
    // what it was doing, so kube's lines only show from -vv.
    let default = match verbose {
        0 => "warn,kube_client=off",
        1 => "warn,ark=info,kube_client=off",
        2 => "info,ark=debug",
        _ => "debug,ark=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only for a person at a terminal, and never with NO_COLOR (https://no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose >= 2)
        .with_ansi(colour)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
