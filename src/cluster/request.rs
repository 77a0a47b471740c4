//! Raw requests to the apiserver with the retry rules ark wants everywhere: 429 (API Priority
//! and Fairness, max-in-flight) waits for Retry-After and tries again; transient 5xx and
//! connection errors on idempotent requests back off and retry; other errors come back as an
//! `ApiError` with the server's code, reason and message.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;

/// An error the apiserver answered with (or the transport failed with).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {path}: {message}")]
pub(crate) struct ApiError {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// HTTP status, or 0 when no response arrived.
    pub(crate) code: u16,
    /// The Status reason (`NotFound`, `AlreadyExists`, `Expired`, `Forbidden`...), if any.
    pub(crate) reason: String,
    pub(crate) message: String,
}

impl ApiError {
    /// An error with no answer from the server to go by: the request could not be sent or its
    /// answer not read or decoded.
    pub(crate) fn new(method: Method, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { method, path: path.into(), code: 0, reason: String::new(), message: message.into() }
    }

    pub(crate) fn is_not_found(&self) -> bool {
        self.code == 404
    }

    pub(crate) fn is_already_exists(&self) -> bool {
        self.code == 409 && self.reason == "AlreadyExists"
    }

    /// 410 Gone: the revision asked for was compacted away (or a continue token expired).
    pub(crate) fn is_gone(&self) -> bool {
        self.code == 410
    }
}

/// Attempts for 429 (the server asked us to come back) and for transient failures (a 5xx or a
/// dropped connection, which may as well be a backend that is gone for good).
const MAX_ATTEMPTS_THROTTLED: u32 = 8;
const MAX_ATTEMPTS_TRANSIENT: u32 = 3;

/// Sends a request and returns the body of a 2xx answer.
pub(crate) async fn send(
    client: &kube::Client,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: Vec<u8>,
) -> Result<Bytes, ApiError> {
    let idempotent = method == Method::GET || method == Method::PUT || method == Method::DELETE;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut builder = Request::builder().method(method.clone()).uri(path);
        if let Some(content_type) = content_type {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        builder = builder.header(http::header::ACCEPT, accept.unwrap_or("application/json"));
        let request = builder
            .body(kube::client::Body::from(body.clone()))
            .map_err(|e| ApiError::new(method.clone(), path, format!("build request: {e}")))?;
        let transport_error = |message: String| ApiError::new(method.clone(), path, message);
        let started = std::time::Instant::now();
        let response = match client.send(request).await {
            Ok(response) => response,
            Err(e) if idempotent && attempt < MAX_ATTEMPTS_TRANSIENT => {
                tracing::debug!("{method} {path}: {e}; retrying");
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            Err(e) => return Err(transport_error(e.to_string())),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if idempotent && attempt < MAX_ATTEMPTS_TRANSIENT => {
                tracing::debug!("{method} {path}: reading body: {e}; retrying");
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            Err(e) => return Err(transport_error(format!("read response: {e}"))),
        };
        tracing::debug!("{method} {path}: {} in {} ms", status.as_u16(), started.elapsed().as_millis());
        if status.is_success() {
            return Ok(body);
        }
        let retryable = (status == StatusCode::TOO_MANY_REQUESTS && attempt < MAX_ATTEMPTS_THROTTLED)
            || (idempotent && matches!(status.as_u16(), 500 | 502 | 503 | 504) && attempt < MAX_ATTEMPTS_TRANSIENT);
        if retryable {
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            tracing::debug!("{method} {path}: {status}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            continue;
        }
        let parsed: Option<kube::core::Status> = serde_json::from_slice(&body).ok();
        let (reason, message) = match parsed {
            Some(s) if !s.message.is_empty() => (s.reason, s.message),
            Some(s) => (s.reason, status.to_string()),
            None => (String::new(), format!("{status}: {}", String::from_utf8_lossy(&body).trim())),
        };
        return Err(ApiError { method, path: path.to_owned(), code: status.as_u16(), reason, message });
    }
}

pub(crate) async fn get(client: &kube::Client, path: &str) -> Result<Bytes, ApiError> {
    send(client, Method::GET, path, None, None, Vec::new()).await
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 2u64.pow(attempt.min(5)))
}
