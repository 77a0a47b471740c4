//! Running a command in a pod's container through the apiserver, as `kubectl exec` does: the
//! `pods/exec` subresource over a WebSocket (the apiserver forwards it to the pod's kubelet),
//! stdout and stderr read as they come, the exit status from the final Status message. Knows
//! nothing of hooks or backups; never sends stdin or allocates a terminal.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncRead, AsyncReadExt};

/// One command to run.
pub(crate) struct ExecRequest<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) pod: &'a str,
    pub(crate) container: &'a str,
    pub(crate) command: &'a [String],
    /// Past this, the command is cancelled (the connection closed) and counts as failed.
    pub(crate) timeout: Duration,
    /// Output beyond this many bytes per stream is read and dropped, with a note saying how much.
    pub(crate) keep_bytes: usize,
}

/// How a command that ran to an exit status ended.
#[derive(Debug)]
pub(crate) struct ExecOutput {
    pub(crate) exit_code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ExecError {
    #[error("start the command: {message}")]
    Start { message: String },
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// The kubelet could not run the command (no such executable, container gone...).
    #[error("{message}")]
    Refused { message: String },
    /// The connection ended early; `detail` is what broke it, when known.
    #[error("the connection closed without an exit status{detail}")]
    NoStatus { detail: String },
}

/// Runs `request.command` and waits for it to end, at most `request.timeout`.
pub(crate) async fn exec(client: &kube::Client, request: &ExecRequest<'_>) -> Result<ExecOutput, ExecError> {
    tokio::time::timeout(request.timeout, run(client, request))
        .await
        .unwrap_or(Err(ExecError::TimedOut(request.timeout)))
}

async fn run(client: &kube::Client, request: &ExecRequest<'_>) -> Result<ExecOutput, ExecError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), request.namespace);
    let params = AttachParams::default().container(request.container).stdin(false).stdout(true).stderr(true);
    // Dropping the process (on timeout) aborts its connection, which cancels the command.
    let mut process = pods.exec(request.pod, request.command.to_vec(), &params).await.map_err(start_error)?;
    let status = process.take_status();
    // Both streams are read at once: a full one would stall the connection.
    let (stdout, stderr) =
        tokio::join!(capture(process.stdout(), request.keep_bytes), capture(process.stderr(), request.keep_bytes));
    let status = match status {
        Some(status) => status.await,
        None => None,
    };
    let joined = process.join().await;
    let Some(status) = status else {
        return Err(ExecError::NoStatus { detail: joined.err().map(|e| format!(": {e}")).unwrap_or_default() });
    };
    let exit_code = exit_code(&status)?;
    Ok(ExecOutput { exit_code, stdout, stderr })
}

/// The apiserver's own words when it refused the exec (kube's text for those carries a debug
/// dump of the whole Status), kube's otherwise.
fn start_error(error: kube::Error) -> ExecError {
    let message = match &error {
        kube::Error::Api(status) if !status.message.is_empty() => format!("{} (HTTP {})", status.message, status.code),
        _ => error.to_string(),
    };
    ExecError::Start { message }
}

/// The exit status a Status message reports: 0 for Success, the `ExitCode` cause for
/// `NonZeroExitCode`; any other failure is the kubelet refusing to run the command.
fn exit_code(status: &Status) -> Result<i32, ExecError> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    let message = status.message.clone().unwrap_or_else(|| "the command failed without a message".to_owned());
    if status.reason.as_deref() != Some("NonZeroExitCode") {
        return Err(ExecError::Refused { message });
    }
    status
        .details
        .iter()
        .flat_map(|d| d.causes.iter().flatten())
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref()?.parse().ok())
        .ok_or(ExecError::Refused { message })
}

/// Reads `reader` to its end, keeping the first `keep` bytes as text.
async fn capture(reader: Option<impl AsyncRead + Unpin>, keep: usize) -> String {
    let Some(mut reader) = reader else { return String::new() };
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buffer = [0u8; 8192];
    // A read error ends the stream like its end does; the exit status says how the command went.
    while let Ok(n @ 1..) = reader.read(&mut buffer).await {
        total += n;
        let room = keep.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if total > kept.len() {
        text.push_str(&format!("\n[{} more bytes not kept]", total - kept.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn exit_codes_come_from_the_status_message() {
        assert_eq!(exit_code(&status(serde_json::json!({"status": "Success"}))).unwrap(), 0);
        let nonzero = status(serde_json::json!({
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "message": "command terminated with non-zero exit code: exit status 3",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        }));
        assert_eq!(exit_code(&nonzero).unwrap(), 3);
        let refused = status(serde_json::json!({
            "status": "Failure",
            "reason": "InternalError",
            "message": "executable file not found in $PATH"
        }));
        let err = exit_code(&refused).unwrap_err();
        assert_eq!(err.to_string(), "executable file not found in $PATH");
    }

    #[tokio::test]
    async fn output_is_kept_up_to_a_bound_and_the_rest_counted() {
        let text = capture(Some(&b"hello world"[..]), 5).await;
        assert_eq!(text, "hello\n[6 more bytes not kept]");
        assert_eq!(capture(Some(&b"short"[..]), 100).await, "short");
        assert_eq!(capture(None::<&[u8]>, 100).await, "");
    }
}
