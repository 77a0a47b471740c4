//! Connecting to a cluster the way kubectl does: `--kubeconfig`, or the files listed in
//! `KUBECONFIG` merged, or `~/.kube/config`, or the in-cluster service account; `--context`
//! picks a context; exec credential plugins, tokens and client certificates come with kube's
//! config loader.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// What the user named on the command line.
#[derive(Debug, Clone, Default)]
pub(crate) struct KubeTarget {
    pub(crate) kubeconfig: Option<PathBuf>,
    pub(crate) context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    /// kube's own text for this names the path twice, quoted twice: this says it once.
    #[error("read kubeconfig {path}")]
    ReadKubeconfig { path: String, source: std::io::Error },
    #[error("load kubeconfig {path}")]
    Kubeconfig { path: String, source: KubeconfigError },
    #[error(
        "find cluster credentials: no kubeconfig (set KUBECONFIG or --kubeconfig, or create ~/.kube/config) and not running in a cluster"
    )]
    NoConfig { source: Box<ClusterError> },
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
    /// `compress_responses` asks the apiserver to gzip its answers (kubeconfig's
    /// `disable-compression` still turns it off).
    pub(crate) async fn open(target: &KubeTarget, compress_responses: bool) -> Result<Self, ClusterError> {
        let options = KubeConfigOptions { context: target.context.clone(), ..Default::default() };
        let mut config = match (&target.kubeconfig, &target.context) {
            (Some(path), _) => {
                let kubeconfig_err = |source| kubeconfig_error(path.display().to_string(), source);
                let file = Kubeconfig::read_from(path).map_err(kubeconfig_err)?;
                kube::Config::from_custom_kubeconfig(file, &options).await.map_err(kubeconfig_err)?
            }
            (None, Some(_)) => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|source| kubeconfig_error(kubeconfig_env_paths(), source))?,
            (None, None) => infer(&options).await?,
        };
        // Generous timeouts: a LIST of a large type at a fixed revision can take a while.
        config.read_timeout = Some(Duration::from_secs(300));
        config.connect_timeout = Some(Duration::from_secs(30));
        // ark retries by itself, a few times and honouring Retry-After (cluster::request);
        // kube's own retry layer would retry a 503 from a dead aggregated API for many minutes.
        config.default_retry = false;
        config.disable_compression |= !compress_responses;
        let server = config.cluster_url.to_string();
        let client = build_client(config).map_err(|source| ClusterError::Client { server: server.clone(), source })?;
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

/// kube's client stack (base URI, gzip, auth, impersonation headers, timeouts) over a connector
/// with TCP_NODELAY. Without it the first request on every new connection waits about 40 ms:
/// Nagle holds it until the server acknowledges the TLS handshake's last message, and the server
/// delays that acknowledgement. Through a proxy, kube's own stack is used as it is.
fn build_client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    use kube::client::ConfigExt;

    if config.proxy_url.is_some() {
        return kube::Client::try_from(config);
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let mut connector = hyper_timeout::TimeoutConnector::new(config.rustls_https_connector_with_connector(http)?);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let client: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let gzip = tower_http::decompression::DecompressionLayer::new()
        .no_br()
        .no_deflate()
        .no_zstd()
        .gzip(!config.disable_compression);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .layer(gzip)
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(client);
    Ok(kube::Client::new(service, config.default_namespace))
}

/// What `kube::Config::infer` does (the kubeconfig, else the in-cluster service account), with
/// the kubeconfig's error kept whole for the message.
async fn infer(options: &KubeConfigOptions) -> Result<kube::Config, ClusterError> {
    let mut config = match kube::Config::from_kubeconfig(options).await {
        Ok(config) => config,
        Err(kubeconfig) => kube::Config::incluster().map_err(|in_cluster| {
            tracing::debug!("no in-cluster config either: {in_cluster}");
            ClusterError::NoConfig { source: Box::new(kubeconfig_error(kubeconfig_env_paths(), kubeconfig)) }
        })?,
    };
    config.apply_debug_overrides();
    Ok(config)
}

fn kubeconfig_error(path: String, error: KubeconfigError) -> ClusterError {
    match error {
        KubeconfigError::ReadConfig(source, path) => {
            ClusterError::ReadKubeconfig { path: path.display().to_string(), source }
        }
        source => ClusterError::Kubeconfig { path, source },
    }
}

fn kubeconfig_env_paths() -> String {
    std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".to_owned())
}
