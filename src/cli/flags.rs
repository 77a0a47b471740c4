//! Flags several verbs share, each defined once so that they read the same everywhere: what a
//! backup or restore covers (`backup create`, `schedule create`, `restore create`), and the
//! storage location the verbs that read or delete records use.

use clap::Args;

use crate::model::{LabelFilter, LabelSelector, NamespaceFilter, ResourceFilter, Scope};

#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FilterArgs {
    /// Namespaces to include, comma-separated; globs such as `team-*` work (default: all).
    #[arg(
        short = 'n',
        long = "include-namespaces",
        visible_alias = "namespace",
        value_delimiter = ',',
        value_name = "NS"
    )]
    pub(crate) include_namespaces: Vec<String>,
    /// Namespaces to exclude, comma-separated; globs work.
    #[arg(long, value_delimiter = ',', value_name = "NS")]
    pub(crate) exclude_namespaces: Vec<String>,
    /// Resources to include, comma-separated: `deployments.apps`, `deploy`, `Deployment`, `configmaps`
    /// (default: all).
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE")]
    pub(crate) include_resources: Vec<String>,
    /// Resources to exclude, comma-separated, in the same forms.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCE")]
    pub(crate) exclude_resources: Vec<String>,
    /// Include cluster-scoped objects: true, false, or unset for auto (all of them for a
    /// whole-cluster run; for a namespaced run, only those its objects need, such as their CRDs
    /// and the PVs bound to their PVCs).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) include_cluster_resources: Option<bool>,
    /// Only objects matching this label selector (`app=web,tier!=cache`).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub(crate) selector: Option<String>,
    /// Objects matching any of these label selectors; repeat the flag for each one.
    #[arg(long, value_name = "SELECTOR", conflicts_with = "selector")]
    pub(crate) or_selector: Vec<String>,
}

impl FilterArgs {
    /// What the flags cover. A bad label selector is an error naming it; namespace patterns are
    /// checked by the operation that uses them.
    pub(crate) fn scope(&self) -> anyhow::Result<Scope> {
        let labels = LabelFilter {
            selector: self.selector.as_deref().map(LabelSelector::parse).transpose()?,
            or_selectors: self.or_selector.iter().map(|s| LabelSelector::parse(s)).collect::<Result<_, _>>()?,
        };
        Ok(Scope {
            namespaces: NamespaceFilter::new(&self.include_namespaces, &self.exclude_namespaces),
            resources: ResourceFilter {
                include: self.include_resources.clone(),
                exclude: self.exclude_resources.clone(),
            },
            include_cluster_resources: self.include_cluster_resources,
            labels,
        })
    }
}

/// `--storage-location` of the verbs that read backups or restores.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ReadLocation {
    /// Storage location to read (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    storage_location: Option<String>,
}

/// `--storage-location` of the verbs that delete backups or restores.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct DeleteLocation {
    /// Storage location to delete from (default: the configured default).
    #[arg(long, value_name = "NAME", env = "ARK_STORAGE_LOCATION")]
    storage_location: Option<String>,
}

impl ReadLocation {
    pub(crate) fn name(&self) -> Option<&str> {
        self.storage_location.as_deref()
    }
}

impl DeleteLocation {
    pub(crate) fn name(&self) -> Option<&str> {
        self.storage_location.as_deref()
    }
}
