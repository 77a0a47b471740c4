//! Connecting to a cluster the way kubectl does: `--kubeconfig`, or the files listed in
//! `KUBECONFIG` merged, or `~/.kube/config`, or the in-cluster service account; `--context`
//! picks a context; exec credential plugins, tokens and client certificates come with kube's
//! config loader.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// What the user named on the command line.
#[derive(Debug, Clone, Default)]
pub(crate) struct KubeTarget {
    pub(crate) kubeconfig: Option<PathBuf>,
    pub(crate) context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    #[error("load kubeconfig {path}")]
    Kubeconfig { path: String, source: kube::config::KubeconfigError },
    #[error(
        "find cluster credentials: no kubeconfig (set KUBECONFIG or --kubeconfig, or create ~/.kube/config) and not running in a cluster"
    )]
    NoConfig { source: kube::config::InferConfigError },
    #[error("create Kubernetes client for {server}")]
    Client { server: String, source: kube::Error },
    #[error("ask {server} for its version")]
    Version { server: String, source: kube::Error },
}

/// A ready client and where it points.
#[derive(Clone)]
pub(crate) struct Connection {
    pub(crate) client: kube::Client,
    pub(crate) server: String,
}

impl Connection {
    pub(crate) async fn open(target: &KubeTarget) -> Result<Self, ClusterError> {
        let options = KubeConfigOptions { context: target.context.clone(), ..Default::default() };
        let mut config = match (&target.kubeconfig, &target.context) {
            (Some(path), _) => {
                let kubeconfig_err = |source| ClusterError::Kubeconfig { path: path.display().to_string(), source };
                let file = Kubeconfig::read_from(path).map_err(kubeconfig_err)?;
                kube::Config::from_custom_kubeconfig(file, &options).await.map_err(kubeconfig_err)?
            }
            (None, Some(_)) => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|source| ClusterError::Kubeconfig { path: kubeconfig_env_paths(), source })?,
            (None, None) => kube::Config::infer().await.map_err(|source| ClusterError::NoConfig { source })?,
        };
        // Generous timeouts: a LIST of a large type at a fixed revision can take a while.
        config.read_timeout = Some(Duration::from_secs(300));
        config.connect_timeout = Some(Duration::from_secs(30));
        // ark retries by itself, a few times and honouring Retry-After (cluster::request);
        // kube's own retry layer would retry a 503 from a dead aggregated API for many minutes.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let client =
            kube::Client::try_from(config).map_err(|source| ClusterError::Client { server: server.clone(), source })?;
        Ok(Self { client, server })
    }

    /// The server's version as `/version` reports it (e.g. "v1.20.2").
    pub(crate) async fn server_version(&self) -> Result<k8s_openapi::apimachinery::pkg::version::Info, ClusterError> {
        self.client
            .apiserver_version()
            .await
            .map_err(|source| ClusterError::Version { server: self.server.clone(), source })
    }
}

fn kubeconfig_env_paths() -> String {
    std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".to_owned())
}
