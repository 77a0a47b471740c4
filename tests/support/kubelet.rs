//! A stand-in kubelet for the backup hook tests. The apiserver stays real: it forwards a pod's
//! `exec` to the kubelet its node names, so this test support registers a fake Node whose
//! kubelet endpoint is a small HTTPS WebSocket server on 127.0.0.1 (self-signed certificate,
//! which the apiserver does not check without `--kubelet-certificate-authority`). The server
//! speaks the `v4.channel.k8s.io` protocol (channel 1 stdout, 2 stderr, 3 the final Status),
//! records every command it is asked to run, and answers each with the stdout, stderr, exit
//! status and delay a test configured for it.
//!
//! Pods are created with `spec.nodeName` set to the fake node (there is no scheduler) and their
//! status patched to Running, since no real kubelet will. A pod deleted normally would wait
//! for its kubelet forever, so `HookNamespace` force-deletes its pods before its namespace.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use futures::SinkExt;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::Message;

use super::{env, kubectl, stderr, unique};

/// Labels the fake nodes with the pid of the test binary that serves them, so a later run can
/// delete the nodes of runs that are gone.
const PID_LABEL: &str = "ark-test/fake-kubelet-pid";

/// One command the stand-in was asked to run.
#[derive(Debug, Clone)]
pub struct ExecCall {
    /// Order of arrival, across every pod.
    pub seq: usize,
    pub at: SystemTime,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
}

/// How the stand-in answers a command.
#[derive(Clone, Default)]
pub struct Answer {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// Waits this long before answering (a timeout test's slow command).
    pub delay: Duration,
    /// Runs before the answer is sent: what the command does to the cluster, as far as a test
    /// needs to see it (create an object, say).
    pub effect: Option<Arc<dyn Fn() + Send + Sync>>,
}

#[derive(Default)]
struct State {
    /// Keyed by the command's arguments joined with spaces.
    answers: BTreeMap<String, Answer>,
    calls: Vec<ExecCall>,
}

pub struct FakeKubelet {
    pub node: String,
    pub port: u16,
    state: Arc<Mutex<State>>,
}

/// The stand-in kubelet of this test binary, started on first use with a node of its own.
pub fn kubelet() -> &'static FakeKubelet {
    static KUBELET: OnceLock<FakeKubelet> = OnceLock::new();
    KUBELET.get_or_init(FakeKubelet::start)
}

impl FakeKubelet {
    fn start() -> Self {
        env();
        let tls = Arc::new(server_config());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the stand-in kubelet");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("listener address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let served = Arc::clone(&state);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("start the stand-in kubelet's runtime");
            runtime.block_on(serve(listener, tls, served));
        });
        delete_stale_nodes();
        let node = unique("fake-node");
        register_node(&node, port);
        Self { node, port, state }
    }

    /// Answers `command` (its arguments joined with spaces) with `answer` from now on. Commands
    /// without an answer print `ran <command>` and exit 0.
    pub fn answer(&self, command: &str, answer: Answer) {
        self.state.lock().unwrap().answers.insert(command.to_owned(), answer);
    }

    /// Every command run in pods of `namespace` so far, in order of arrival.
    pub fn calls(&self, namespace: &str) -> Vec<ExecCall> {
        self.state.lock().unwrap().calls.iter().filter(|c| c.namespace == namespace).cloned().collect()
    }

    /// A new namespace for one test's pods, removed (pods first) when the value is dropped.
    pub fn namespace(&self, prefix: &str) -> HookNamespace {
        let name = unique(prefix);
        let out = kubectl(&["create", "namespace", &name]);
        assert!(out.status.success(), "{}", stderr(&out));
        HookNamespace { name }
    }

    /// Creates pod `name` on the fake node with `containers`, `labels` and `annotations`;
    /// Running (every container running) when `running`, else left Pending as created.
    pub fn create_pod(
        &self,
        namespace: &str,
        name: &str,
        containers: &[&str],
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
        running: bool,
    ) {
        let map = |pairs: &[(&str, &str)]| -> serde_json::Map<String, serde_json::Value> {
            pairs.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect()
        };
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": map(labels), "annotations": map(annotations)},
            "spec": {
                "nodeName": self.node,
                "containers": containers.iter().map(|c| serde_json::json!({"name": c, "image": "busybox"})).collect::<Vec<_>>(),
            },
        });
        kubectl_stdin(&["create", "-f", "-"], &pod.to_string());
        if !running {
            return;
        }
        let statuses: Vec<serde_json::Value> = containers
            .iter()
            .map(|c| {
                serde_json::json!({"name": c, "ready": true, "restartCount": 0, "image": "busybox", "imageID": "",
                    "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}})
            })
            .collect();
        let status = serde_json::json!({"status": {"phase": "Running", "containerStatuses": statuses}});
        let out = kubectl(&[
            "patch",
            "pod",
            name,
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ]);
        assert!(out.status.success(), "mark pod {namespace}/{name} Running: {}", stderr(&out));
    }
}

/// A test's namespace; dropping it force-deletes its pods (no kubelet will confirm their
/// deletion) and then the namespace.
pub struct HookNamespace {
    pub name: String,
}

impl Drop for HookNamespace {
    fn drop(&mut self) {
        let _ = kubectl(&["delete", "pods", "--all", "-n", &self.name, "--grace-period=0", "--force"]);
        let _ = kubectl(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

fn kubectl_stdin(args: &[&str], input: &str) {
    let mut child = Command::new("kubectl")
        .env("KUBECONFIG", env().kubeconfig())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    child.stdin.take().expect("kubectl stdin").write_all(input.as_bytes()).expect("write to kubectl");
    let out = child.wait_with_output().expect("wait for kubectl");
    assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
}

/// A Node whose status sends the apiserver to 127.0.0.1:`port` for its kubelet.
fn register_node(node: &str, port: u16) {
    let pid = std::process::id().to_string();
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node, "labels": {PID_LABEL: pid}},
    });
    kubectl_stdin(&["create", "-f", "-"], &body.to_string());
    let status = serde_json::json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "stand-in kubelet",
            "lastHeartbeatTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}],
    }});
    let out = kubectl(&["patch", "node", node, "--subresource=status", "--type=merge", "-p", &status.to_string()]);
    assert!(out.status.success(), "patch node {node}: {}", stderr(&out));
}

/// Deletes the fake nodes of test binaries that are no longer running.
fn delete_stale_nodes() {
    let out = kubectl(&["get", "nodes", "-l", PID_LABEL, "-o", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    for node in list["items"].as_array().into_iter().flatten() {
        let pid = node["metadata"]["labels"][PID_LABEL].as_str().unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = kubectl(&["delete", "node", node["metadata"]["name"].as_str().unwrap_or_default()]);
        }
    }
}

/// A TLS server configuration with a fresh self-signed certificate for 127.0.0.1, made with
/// openssl (which the test environment needs anyway), using aws-lc-rs explicitly: two rustls
/// providers are compiled in, so there is no process default.
fn server_config() -> rustls::ServerConfig {
    let dir = tempfile::tempdir().expect("temporary directory for the kubelet certificate");
    let path = |name: &str| dir.path().join(name).to_str().expect("UTF-8 temporary path").to_owned();
    let (pem, key, cert) = (path("key.pem"), path("key.der"), path("cert.der"));
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
    };
    run(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &pem]);
    // PKCS#8, whatever form this openssl writes EC keys in by default.
    run(&["pkcs8", "-topk8", "-nocrypt", "-in", &pem, "-outform", "DER", "-out", &key]);
    run(&[
        "req",
        "-x509",
        "-key",
        &key,
        "-keyform",
        "DER",
        "-outform",
        "DER",
        "-out",
        &cert,
        "-days",
        "2",
        "-subj",
        "/CN=ark-test-kubelet",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]);
    let cert = rustls::pki_types::CertificateDer::from(std::fs::read(&cert).expect("read the certificate"));
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(std::fs::read(&key).expect("read the key").into());
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("TLS server configuration")
}

async fn serve(listener: std::net::TcpListener, tls: Arc<rustls::ServerConfig>, state: Arc<Mutex<State>>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let (acceptor, state) = (acceptor.clone(), Arc::clone(&state));
        tokio::spawn(async move {
            if let Ok(stream) = acceptor.accept(tcp).await {
                exec(stream, state).await;
            }
        });
    }
}

/// One `/exec/<namespace>/<pod>/<container>?command=...` request, start to end.
async fn exec(stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, state: Arc<Mutex<State>>) {
    let mut target = None;
    #[expect(clippy::result_large_err, reason = "the signature tungstenite's handshake callback has")]
    let callback = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        target = Some(request.uri().clone());
        let offered = request.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok()).unwrap_or("");
        if offered.split(',').any(|p| p.trim() == "v4.channel.k8s.io") {
            response.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("v4.channel.k8s.io"));
        }
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { return };
    let Some(uri) = target else { return };
    let parts: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let ["exec", namespace, pod, container] = parts.as_slice() else { return };
    let command: Vec<String> = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.into_owned())
        .collect();
    let joined = command.join(" ");
    let answer = {
        let mut state = state.lock().unwrap();
        let seq = state.calls.len();
        state.calls.push(ExecCall {
            seq,
            at: SystemTime::now(),
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            command,
        });
        state
            .answers
            .get(&joined)
            .cloned()
            .unwrap_or_else(|| Answer { stdout: format!("ran {joined}\n"), ..Answer::default() })
    };
    if let Some(effect) = answer.effect.clone() {
        let _ = tokio::task::spawn_blocking(move || effect()).await;
    }
    tokio::time::sleep(answer.delay).await;
    let status = if answer.exit_code == 0 {
        serde_json::json!({"metadata": {}, "status": "Success"})
    } else {
        serde_json::json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("command terminated with non-zero exit code: exit status {}", answer.exit_code),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": answer.exit_code.to_string()}]},
        })
    };
    // Whoever asked may have given up (a timeout): failing to answer is fine then.
    for (channel, body) in
        [(1u8, answer.stdout.into_bytes()), (2, answer.stderr.into_bytes()), (3, status.to_string().into_bytes())]
    {
        if channel != 3 && body.is_empty() {
            continue;
        }
        let mut frame = vec![channel];
        frame.extend(body);
        if socket.send(Message::binary(frame)).await.is_err() {
            return;
        }
    }
    let _ = socket.close(None).await;
}
