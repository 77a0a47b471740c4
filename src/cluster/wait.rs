//! Waiting for the cluster: a namespace that is still Terminating must go before objects can
//! land in it again, and a CRD must be Established before its custom resources can be created.

use std::time::Duration;

use serde_json::Value;

use super::objects;
use super::request::ApiError;
use crate::poll::{Pauses, Polling};

/// Why a namespace could not be made ready.
#[derive(Debug)]
pub(crate) enum NamespaceError {
    Read(ApiError),
    Create(ApiError),
}

/// Makes sure the namespace `namespace` (the object to create when it is missing) is there for
/// objects to land in: waits out one that is still Terminating, for at most `timeout`, and
/// creates a missing one (a dry run only checks). False when it was still Terminating.
pub(crate) async fn ensure_namespace(
    client: &kube::Client,
    namespace: &Value,
    dry_run: bool,
    timeout: Duration,
) -> Result<bool, NamespaceError> {
    let path = format!("/api/v1/namespaces/{}", namespace["metadata"]["name"].as_str().unwrap_or_default());
    let mut polling = Polling::new(timeout, Pauses::steady(Duration::from_millis(500)));
    loop {
        match objects::get(client, &path).await {
            Ok(live) if live["status"]["phase"] == "Terminating" => {
                if !polling.again().await {
                    return Ok(false);
                }
            }
            Ok(_) => return Ok(true),
            Err(e) if e.is_not_found() && dry_run => return Ok(true),
            Err(e) if e.is_not_found() => match objects::create(client, "/api/v1/namespaces", namespace, false).await {
                Ok(()) => return Ok(true),
                // Made meanwhile by someone else: look at it again at once.
                Err(e) if e.is_already_exists() => {}
                Err(e) => return Err(NamespaceError::Create(e)),
            },
            Err(e) => return Err(NamespaceError::Read(e)),
        }
    }
}

/// How waiting for a CRD ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CrdState {
    Established,
    /// Not within the time given; its conditions that are not True (`NamesAccepted: ...`)
    /// say why.
    NotEstablished(Vec<String>),
}

/// Waits until the CRD `name` is Established, for at most `timeout`.
pub(crate) async fn crd_established(
    client: &kube::Client,
    name: &str,
    timeout: Duration,
) -> Result<CrdState, ApiError> {
    let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
    let mut polling = Polling::new(timeout, Pauses::steady(Duration::from_millis(200)));
    let live = loop {
        let live = objects::get(client, &path).await?;
        let conditions = live["status"]["conditions"].as_array();
        if conditions.is_some_and(|c| c.iter().any(|c| c["type"] == "Established" && c["status"] == "True")) {
            return Ok(CrdState::Established);
        }
        if !polling.again().await {
            break live;
        }
    };
    let unmet = live["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] != "True")
        .map(|c| format!("{}: {}", c["type"].as_str().unwrap_or("?"), c["message"].as_str().unwrap_or("")))
        .collect();
    Ok(CrdState::NotEstablished(unmet))
}
