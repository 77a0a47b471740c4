//! What every verb gets: the global flags resolved once (directories, config path, output
//! format) and helpers to open what the flags name.

use std::path::PathBuf;

use crate::cluster::{Connection, KubeTarget};
use crate::config::{Config, Dirs};
use crate::state::StateFile;
use crate::store::Bucket;

use super::{GlobalArgs, OutputFormat};

pub(crate) struct Ctx {
    pub(crate) output: OutputFormat,
    pub(crate) kube: KubeTarget,
    pub(crate) dirs: Dirs,
    pub(crate) config_path: PathBuf,
    pub(crate) assume_yes: bool,
}

impl Ctx {
    pub(crate) fn new(global: GlobalArgs) -> anyhow::Result<Self> {
        let dirs = Dirs::from_env()?;
        let config_path = global.config.unwrap_or_else(|| dirs.config_file());
        Ok(Self {
            output: global.output,
            kube: KubeTarget { kubeconfig: global.kubeconfig, context: global.context },
            dirs,
            config_path,
            assume_yes: global.yes,
        })
    }

    /// The config file, read and validated now (verbs that need no config never read it).
    pub(crate) fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config_path)?)
    }

    /// The local state file (schedules, cache) under `$XDG_STATE_HOME/ark`.
    pub(crate) fn state_file(&self) -> StateFile {
        StateFile::in_dir(&self.dirs.state)
    }

    pub(crate) async fn connect(&self, config: &Config) -> anyhow::Result<Connection> {
        Ok(Connection::open(&self.kube, config.tuning.compress_responses).await?)
    }

    /// Whether a person can be asked: stdin and stderr are a terminal and `--yes` was not given.
    pub(crate) fn interactive(&self) -> bool {
        use std::io::IsTerminal;
        !self.assume_yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    /// Asks the person at the terminal to confirm; `--yes` answers for them. Without a
    /// terminal nothing waits for input: the caller is told to pass `--yes`.
    pub(crate) fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        if self.assume_yes {
            return Ok(true);
        }
        if !self.interactive() {
            return Err(super::exit::usage(format!("{question} Not asking without a terminal: pass --yes to confirm")));
        }
        Ok(dialoguer::Confirm::new().with_prompt(question).default(false).interact()?)
    }

    /// Lets the person at the terminal pick one of `items`; only call it when `interactive()`.
    pub(crate) fn pick(&self, prompt: &str, items: &[String]) -> anyhow::Result<usize> {
        Ok(dialoguer::Select::new().with_prompt(prompt).items(items).default(0).interact()?)
    }

    /// Opens the storage location `name` (or the default one).
    pub(crate) async fn bucket(&self, config: &Config, name: Option<&str>) -> anyhow::Result<Bucket> {
        Ok(Bucket::open_configured(config, &self.dirs, name).await?)
    }
}
