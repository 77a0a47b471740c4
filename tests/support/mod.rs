//! Test support for the end-to-end tests: one real environment (etcd, kube-apiserver,
//! kube-controller-manager, moto) per machine, started on first use by `scripts/test-env.sh`
//! and shared by every test binary; each test gets its own namespace, bucket and ark
//! directories so tests run in parallel without seeing each other.

#![allow(dead_code, reason = "each test binary uses a different part of the support module")]

pub mod kubelet;
mod spdy;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct TestEnv {
    pub dir: PathBuf,
    pub vars: HashMap<String, String>,
}

impl TestEnv {
    pub fn kubeconfig(&self) -> &str {
        &self.vars["ARK_TEST_KUBECONFIG"]
    }

    pub fn s3_endpoint(&self) -> &str {
        &self.vars["ARK_TEST_S3_ENDPOINT"]
    }

    /// A variable of the environment's env file, which an environment started by an older
    /// scripts/test-env.sh may lack.
    pub fn var(&self, key: &str) -> &str {
        self.vars.get(key).map(String::as_str).unwrap_or_else(|| {
            panic!(
                "the test environment in {dir} has no {key}: it was started by an older scripts/test-env.sh; \
                 stop it (scripts/test-env.sh down {dir}) and run the tests again",
                dir = self.dir.display()
            )
        })
    }
}

/// The checkout under test: `cargo test` names it at run time. (The compile-time value would
/// be wrong for a test binary cargo reuses from a build in another checkout sharing the target
/// directory, as CI's cache is.)
pub fn repo_root() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()))
}

/// A realistic manifest written for this project (`fixtures/manifests`; its README says what
/// each one covers).
pub fn fixture(manifest: &str) -> String {
    repo_root().join("fixtures/manifests").join(manifest).display().to_string()
}

/// The shared real-world corpus (`../shared/corpus`), which only exists beside the checkout on the
/// project's own machines. `None`, after saying so on stderr, where it is absent:
/// tests that use it then check nothing more than their fixture twins already do.
pub fn corpus_dir(test: &str) -> Option<PathBuf> {
    let dir = repo_root().join("../shared/corpus");
    if dir.join("SOURCES.md").is_file() {
        Some(dir)
    } else {
        // Straight to stderr: the test harness captures println!, and this must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped, the real-world corpus ({}) is not beside this checkout",
            dir.display()
        );
        None
    }
}

fn start_env(dir: PathBuf) -> TestEnv {
    let lock = PathBuf::from(format!("{}.lock", dir.display()));
    // flock serialises test binaries that start at once; `up` is a no-op when it runs. The
    // servers `up` starts must not inherit the lock (--close), or they would hold it forever.
    let status = Command::new("flock")
        .arg("--close")
        .arg(&lock)
        .arg(repo_root().join("scripts/test-env.sh"))
        .arg("up")
        .arg(&dir)
        .status()
        .expect("run scripts/test-env.sh");
    assert!(status.success(), "scripts/test-env.sh up {} failed", dir.display());
    let text = std::fs::read_to_string(dir.join("env")).expect("read the test environment's env file");
    let vars = text
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    TestEnv { dir, vars }
}

fn env_dir() -> PathBuf {
    std::env::var("ARK_TEST_ENV_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/tmp/ark-test-env"))
}

/// A second, empty cluster (its own etcd and apiserver) for restores into a new cluster.
/// scripts/test.sh stops it with the first.
pub fn second_cluster() -> &'static TestEnv {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    ENV.get_or_init(|| start_env(PathBuf::from(format!("{}-second", env_dir().display()))))
}

/// The shared environment: the one named by `ARK_TEST_ENV_DIR` (scripts/test.sh starts it), or
/// one this test binary starts under /tmp and leaves running for the next test run.
pub fn env() -> &'static TestEnv {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    ENV.get_or_init(|| start_env(env_dir()))
}

/// A name no other test (or earlier run) uses: `prefix-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{n}-{}", std::process::id(), nanos % 10_000)
}

/// One user of ark: private config, state and data directories, the test cluster's kubeconfig
/// and the test bucket server's credentials.
pub struct Ark {
    pub home: tempfile::TempDir,
    env: &'static TestEnv,
    /// Variables this user sets beyond the ones every test user has (a cloud's credentials).
    vars: Vec<(String, String)>,
}

impl Ark {
    pub fn new() -> Self {
        Self { home: tempfile::tempdir().expect("create a temporary home"), env: env(), vars: Vec::new() }
    }

    /// The same user with `key=value` in the environment, as set in their shell.
    pub fn with_var(mut self, key: &str, value: &str) -> Self {
        self.vars.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn env(&self) -> &'static TestEnv {
        self.env
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The whole environment ark runs with: nothing from the test's own.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let home = self.home.path();
        let mut vars = vec![
            ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".to_owned(), home.display().to_string()),
            ("XDG_CONFIG_HOME".to_owned(), home.join("config").display().to_string()),
            ("XDG_STATE_HOME".to_owned(), home.join("state").display().to_string()),
            ("XDG_DATA_HOME".to_owned(), home.join("data").display().to_string()),
            ("KUBECONFIG".to_owned(), self.env.kubeconfig().to_owned()),
        ];
        for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED"] {
            vars.push((key.to_owned(), self.env.vars[key].clone()));
        }
        vars.extend(self.vars.iter().cloned());
        vars
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ark"));
        cmd.env_clear().envs(self.env_vars());
        cmd
    }

    /// Runs ark with `args` and returns what it did, whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run the ark binary")
    }

    /// Runs ark and fails the test unless it exits 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "ark {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    /// Adds an s3:// storage location on the test server for a fresh bucket; returns the bucket.
    pub fn add_s3_location(&self, name: &str, default: bool) -> String {
        let bucket = create_bucket();
        let url = format!("s3://{bucket}/ark");
        let mut args = vec![
            "config",
            "set-location",
            name,
            &url,
            "--endpoint",
            self.env.s3_endpoint(),
            "--path-style",
            "--region",
            "us-east-1",
        ];
        if default {
            args.push("--default");
        }
        self.ok(&args);
        bucket
    }
}

impl Ark {
    /// Adds an EBS volume snapshot location on the test server's EC2 API.
    pub fn add_snapshot_location(&self, name: &str, default: bool) {
        let endpoint = self.env.s3_endpoint().to_owned();
        let mut args = vec![
            "config",
            "set-snapshot-location",
            name,
            "--provider",
            "aws",
            "--region",
            "us-east-1",
            "--endpoint",
            &endpoint,
        ];
        if default {
            args.push("--default");
        }
        self.ok(&args);
    }
}

/// A new, empty bucket on the test S3 server.
pub fn create_bucket() -> String {
    let bucket = unique("ark-test");
    let status = Command::new("curl")
        .args(["-sf", "-X", "PUT", &format!("{}/{bucket}", env().s3_endpoint())])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run curl");
    assert!(status.success(), "create bucket {bucket}");
    bucket
}

/// Keys in `bucket` under `prefix`, as the S3 server lists them.
pub fn bucket_keys(bucket: &str, prefix: &str) -> Vec<String> {
    let out = Command::new("curl")
        .args(["-sf", &format!("{}/{bucket}?list-type=2&prefix={prefix}", env().s3_endpoint())])
        .output()
        .expect("run curl");
    assert!(out.status.success(), "list bucket {bucket}");
    let body = String::from_utf8_lossy(&out.stdout);
    body.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()).map(str::to_owned).collect()
}

/// The test cluster's version as it reports it (`v1.20.2`).
pub fn server_version() -> String {
    let out = kubectl(&["get", "--raw", "/version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let version: serde_json::Value = serde_json::from_slice(&out.stdout).expect("/version is JSON");
    version["gitVersion"].as_str().expect("/version has gitVersion").to_owned()
}

/// Runs kubectl against the test cluster.
pub fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl").env("KUBECONFIG", env().kubeconfig()).args(args).output().expect("run kubectl")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Creates `namespace` and applies a manifest into it as the corpus's SOURCES.md describes:
/// server-side apply, then plain create for what v1.20's server-side apply refuses.
pub fn apply_in_namespace(namespace: &str, path: &str) {
    let out = kubectl(&["create", "namespace", namespace]);
    assert!(out.status.success(), "{}", stderr(&out));
    let _ = kubectl(&["apply", "--server-side", "-n", namespace, "-f", path]);
    let _ = kubectl(&["create", "-n", namespace, "-f", path]);
}

/// Applies a manifest whose objects name their namespaces (or are cluster-scoped), the same way.
pub fn apply_manifest(path: &str) {
    let _ = kubectl(&["apply", "--server-side", "-f", path]);
    let _ = kubectl(&["create", "-f", path]);
}

/// Every object in `namespace`, by group-resource, as the API returns it (managed fields too).
pub fn namespace_objects(namespace: &str) -> Vec<(String, serde_json::Value)> {
    let types = String::from_utf8(
        kubectl(&["api-resources", "--namespaced=true", "--verbs=list,get,create,delete", "-o", "name"]).stdout,
    )
    .unwrap();
    let mut objects = Vec::new();
    for t in types.lines().filter(|t| !["events", "events.events.k8s.io", "leases.coordination.k8s.io"].contains(t)) {
        let out = kubectl(&["get", t, "-n", namespace, "-o", "json", "--show-managed-fields"]);
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        for item in list["items"].as_array().cloned().unwrap_or_default() {
            objects.push((t.to_owned(), item));
        }
    }
    objects
}

/// Deletes namespaces and waits until they are gone, clearing the PVC finalizers nothing in
/// the test cluster removes.
pub fn delete_namespaces(namespaces: &[&str]) {
    for ns in namespaces {
        let _ = kubectl(&["delete", "namespace", ns, "--wait=false"]);
    }
    for _ in 0..600 {
        let mut left = 0;
        for ns in namespaces {
            if kubectl(&["get", "namespace", ns]).status.success() {
                left += 1;
                let pvcs = kubectl(&["get", "pvc", "-n", ns, "-o", "name"]);
                for pvc in String::from_utf8_lossy(&pvcs.stdout).lines() {
                    let _ =
                        kubectl(&["patch", pvc, "-n", ns, "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
                }
            }
        }
        if left == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("namespaces {namespaces:?} were not deleted within 2 minutes");
}

/// Calls the test server's EC2 query API (moto does not check signatures, but reads the
/// service from the credential scope); returns the XML answer.
pub fn ec2(params: &[(&str, &str)]) -> String {
    let mut args = vec![
        "-sS".to_owned(),
        "--fail-with-body".to_owned(),
        "-H".to_owned(),
        "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0".to_owned(),
        "--data-urlencode".to_owned(),
        "Version=2016-11-15".to_owned(),
    ];
    for (key, value) in params {
        args.push("--data-urlencode".to_owned());
        args.push(format!("{key}={value}"));
    }
    args.push(format!("{}/", env().s3_endpoint()));
    let out = Command::new("curl").args(&args).output().expect("run curl");
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "EC2 {params:?}: {body}");
    body
}

/// The text of every `<tag>...</tag>` in an XML answer.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open).skip(1).filter_map(|s| s.split(&close).next()).map(str::to_owned).collect()
}

/// Creates an object in the test cluster with `kubectl create`, from JSON written under `dir`.
pub fn kubectl_create(dir: &Path, object: &serde_json::Value) {
    let file = dir.join(format!("{}.json", unique("object")));
    std::fs::write(&file, object.to_string()).unwrap();
    let out = kubectl(&["create", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}
