//! A stand-in kubelet for the backup hook tests. The apiserver stays real: it forwards a pod's
//! `exec` to the kubelet its node names, so this test support registers a fake Node whose
//! kubelet endpoint is a small HTTPS server on 127.0.0.1 (self-signed certificate, which the
//! apiserver does not check without `--kubelet-certificate-authority`). The server speaks
//! `v4.channel.k8s.io` in both ways an apiserver may forward an exec: over WebSocket, which
//! apiservers before 1.30 pass through from the client (channel 1 stdout, 2 stderr, 3 the final
//! Status), and over SPDY/3.1, which current ones translate the client's WebSocket into
//! (spdy.rs). It records every command it is asked to run, and answers each with the stdout,
//! stderr, exit status and delay a test configured for it; or notes how the apiserver gave up
//! on it first.
//!
//! Pods are created with `spec.nodeName` set to the fake node (there is no scheduler) and their
//! status patched to Running, since no real kubelet will. A pod deleted normally would wait
//! for its kubelet forever, so `HookNamespace` force-deletes its pods before its namespace.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Message, Role};

use super::{env, kubectl, spdy, stderr, unique};

/// Labels the fake nodes with the pid of the test binary that serves them, so a later run can
/// delete the nodes of runs that are gone.
const PID_LABEL: &str = "ark-test/fake-kubelet-pid";

/// The WebSocket subprotocol the stand-in speaks (v5 adds only a way to close stdin).
const WEBSOCKET_PROTOCOL: &str = "v4.channel.k8s.io";

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
    /// How the apiserver gave up on the call before the stand-in answered it, if it did (a
    /// caller's timeout): the stand-in's view, such as `RST_STREAM on stream 1 (CANCEL)`.
    pub abandoned: Option<String>,
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
                exec(BufReader::new(stream), state).await;
            }
        });
    }
}

/// One connection from the apiserver, read through a buffer that keeps whatever follows the
/// request's head for the protocol it upgrades to.
type Connection = BufReader<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;

/// One `/exec/<namespace>/<pod>/<container>?command=...` request, start to end, in the protocol
/// it upgrades to: WebSocket, which apiservers before 1.30 pass through from the client, or
/// SPDY/3.1, which current ones speak to every kubelet (spdy.rs).
async fn exec(mut connection: Connection, state: Arc<Mutex<State>>) {
    let Some(head) = RequestHead::read(&mut connection).await else { return };
    let Some(target) = ExecTarget::parse(&head.target) else {
        return refuse(connection, "404 Not Found").await;
    };
    match head.header("upgrade").map(str::to_ascii_lowercase).as_deref() {
        Some("websocket") => exec_websocket(connection, &head, target, &state).await,
        Some("spdy/3.1") => exec_spdy(connection, &head, target, &state).await,
        _ => refuse(connection, "400 Bad Request").await,
    }
}

async fn exec_websocket(mut connection: Connection, head: &RequestHead, target: ExecTarget, state: &Mutex<State>) {
    let Some(key) = head.header("sec-websocket-key") else {
        return refuse(connection, "400 Bad Request").await;
    };
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    if head.values("sec-websocket-protocol").any(|p| p == WEBSOCKET_PROTOCOL) {
        response.push_str(&format!("Sec-WebSocket-Protocol: {WEBSOCKET_PROTOCOL}\r\n"));
    }
    response.push_str("\r\n");
    if connection.write_all(response.as_bytes()).await.is_err() || connection.flush().await.is_err() {
        return;
    }
    let mut socket = WebSocketStream::from_raw_socket(connection, Role::Server, None).await;
    let (seq, answer) = record(state, target);
    let abandoned = tokio::select! {
        () = run(&answer) => None,
        why = websocket_abandoned(&mut socket) => Some(why),
    };
    if let Some(why) = abandoned {
        return abandon(state, seq, why);
    }
    // The peer may still go between the command's end and its answer: not answering is fine then.
    for (channel, body) in
        [(1u8, answer.stdout.into_bytes()), (2, answer.stderr.into_bytes()), (3, status(answer.exit_code))]
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

/// Waits until the peer closes the WebSocket or the connection, and says how it did.
async fn websocket_abandoned(socket: &mut WebSocketStream<Connection>) -> String {
    loop {
        match socket.next().await {
            None => return "the connection closed".to_owned(),
            Some(Err(e)) => return format!("the connection broke: {e}"),
            Some(Ok(Message::Close(frame))) => return format!("a WebSocket close ({frame:?})"),
            // Pings (tungstenite answers them) and stdin, which nothing here reads.
            Some(Ok(_)) => continue,
        }
    }
}

async fn exec_spdy(connection: Connection, head: &RequestHead, target: ExecTarget, state: &Mutex<State>) {
    let offered: Vec<&str> = head.values("x-stream-protocol-version").collect();
    let expected = spdy::expected_streams(|key| target.flag(key));
    let mut streams = match spdy::accept(connection, &offered, &expected).await {
        Ok(streams) => streams,
        // Not recorded as a call: say why, or a test would only see the call missing.
        Err(e) => return eprintln!("stand-in kubelet: exec {}: {e}", head.target),
    };
    let (seq, answer) = record(state, target);
    let abandoned = tokio::select! {
        () = run(&answer) => None,
        why = streams.abandoned() => Some(why),
    };
    match abandoned {
        None => {
            let _ = streams.answer(answer.stdout.as_bytes(), answer.stderr.as_bytes(), &status(answer.exit_code)).await;
        }
        Some(why) => abandon(state, seq, why),
    }
}

/// Answers a request this stand-in does not serve, and closes the connection.
async fn refuse(mut connection: Connection, status: &str) {
    let response = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = connection.write_all(response.as_bytes()).await;
    let _ = connection.shutdown().await;
}

/// Records the call and finds its answer; returns the call's `seq` too.
fn record(state: &Mutex<State>, target: ExecTarget) -> (usize, Answer) {
    let joined = target.command.join(" ");
    let mut state = state.lock().unwrap();
    let seq = state.calls.len();
    state.calls.push(ExecCall {
        seq,
        at: SystemTime::now(),
        namespace: target.namespace,
        pod: target.pod,
        container: target.container,
        command: target.command,
        abandoned: None,
    });
    let answer = state
        .answers
        .get(&joined)
        .cloned()
        .unwrap_or_else(|| Answer { stdout: format!("ran {joined}\n"), ..Answer::default() });
    (seq, answer)
}

fn abandon(state: &Mutex<State>, seq: usize, why: String) {
    state.lock().unwrap().calls[seq].abandoned = Some(why);
}

/// What the command does before it ends: its effect on the cluster, then its delay.
async fn run(answer: &Answer) {
    if let Some(effect) = answer.effect.clone() {
        let _ = tokio::task::spawn_blocking(move || effect()).await;
    }
    tokio::time::sleep(answer.delay).await;
}

/// The final Status a kubelet sends for a command that exited with `exit_code`.
fn status(exit_code: i32) -> Vec<u8> {
    let status = if exit_code == 0 {
        serde_json::json!({"metadata": {}, "status": "Success"})
    } else {
        serde_json::json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("command terminated with non-zero exit code: exit status {exit_code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
        })
    };
    status.to_string().into_bytes()
}

/// The request line's target and the headers of the one HTTP/1.1 request a connection carries.
struct RequestHead {
    target: String,
    /// Names in lower case, in the order they came.
    headers: Vec<(String, String)>,
}

impl RequestHead {
    /// Reads up to the blank line after the headers; `None` for anything but a request.
    async fn read(connection: &mut Connection) -> Option<Self> {
        let mut line = String::new();
        connection.read_line(&mut line).await.ok()?;
        let target = line.split_whitespace().nth(1)?.to_owned();
        let mut headers = Vec::new();
        loop {
            line.clear();
            if connection.read_line(&mut line).await.ok()? == 0 || headers.len() > 100 {
                return None;
            }
            let line = line.trim_end();
            if line.is_empty() {
                return Some(Self { target, headers });
            }
            let (name, value) = line.split_once(':')?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every comma-separated value of every `name` line.
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// Where and what to run, from `/exec/<namespace>/<pod>/<container>?command=...&output=1...`.
struct ExecTarget {
    namespace: String,
    pod: String,
    container: String,
    command: Vec<String>,
    query: Vec<(String, String)>,
}

impl ExecTarget {
    fn parse(target: &str) -> Option<Self> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let ["exec", namespace, pod, container] = parts.as_slice() else { return None };
        let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let command = query.iter().filter(|(k, _)| k == "command").map(|(_, v)| v.clone()).collect();
        Some(Self {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            command,
            query,
        })
    }

    /// A query flag, true as Go's strconv.ParseBool reads it (which is how the kubelet does).
    fn flag(&self, key: &str) -> bool {
        self.query.iter().any(|(k, v)| k == key && ["1", "t", "T", "true", "TRUE", "True"].contains(&v.as_str()))
    }
}
