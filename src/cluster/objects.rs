//! Single-object requests: create, get, merge-patch, with the server-side dry run restore uses
//! to check everything it would do without persisting anything.

use http::Method;
use serde_json::Value;

use super::request::{self, ApiError};

fn with_dry_run(path: &str, dry_run: bool) -> String {
    if !dry_run {
        return path.to_owned();
    }
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}dryRun=All")
}

fn decode(path: &str, body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(Method::GET, path, format!("unexpected response: {e}")))
}

/// POSTs `object` to `collection` (e.g. `/api/v1/namespaces/shop/configmaps`). The answer (the
/// created object) is not parsed: nothing needs it. (Asking for metadata only with
/// `as=PartialObjectMetadata` made no measurable difference to a 1.20 apiserver.)
pub(crate) async fn create(
    client: &kube::Client,
    collection: &str,
    object: &Value,
    dry_run: bool,
) -> Result<(), ApiError> {
    let path = with_dry_run(collection, dry_run);
    let body = serde_json::to_vec(object).unwrap_or_default();
    request::send(client, Method::POST, &path, Some("application/json"), None, body).await?;
    Ok(())
}

pub(crate) async fn get(client: &kube::Client, path: &str) -> Result<Value, ApiError> {
    let answer = request::get(client, path).await?;
    decode(path, &answer)
}

/// Applies a JSON merge patch (RFC 7386) to the object at `path`.
pub(crate) async fn merge_patch(
    client: &kube::Client,
    path: &str,
    patch: &Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let full = with_dry_run(path, dry_run);
    let body = serde_json::to_vec(patch).unwrap_or_default();
    let answer = request::send(client, Method::PATCH, &full, Some("application/merge-patch+json"), None, body).await?;
    decode(&full, &answer)
}
