//! `ark completion SHELL`: shell completions generated from the same clap definitions as the
//! help text, so they never drift.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use super::exit::Outcome;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ark completion bash > ~/.local/share/bash-completion/completions/ark\n  \
ark completion zsh > \"${fpath[1]}/_ark\"\n  ark completion fish > ~/.config/fish/completions/ark.fish")]
pub(crate) struct CompletionArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    shell: Shell,
}

pub(crate) fn run(args: CompletionArgs) -> anyhow::Result<Outcome> {
    let mut buffer = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ark", &mut buffer);
    super::output::print(&String::from_utf8_lossy(&buffer))?;
    Ok(Outcome::Success)
}
