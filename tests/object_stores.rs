//! End-to-end: gs:// and az:// storage locations, against fake-gcs-server and Azurite (started by
//! scripts/test-env.sh beside the cluster), configured the way a user of those clouds does it:
//! object_store's own environment variables, nothing in ark's config but the URL.
//! fake-gcs-server sits behind our own front (scripts/env/gcs-front.py), which serves the XML
//! API uploads it lacks: GCS uploads are checked against our reading of that API.
//!
//! Each scenario runs once per cloud. The emulators are checked with their own APIs (the JSON
//! API of fake-gcs-server, passed through the front unchanged; a signed List Blobs for Azurite),
//! not through ark.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{Ark, delete_namespaces, kubectl, stderr, stdout, unique, xml_values};

/// The writer's buffer (src/store/bucket.rs): archives larger than this go up as multipart
/// uploads (GCS XML multipart, Azure Put Block + Put Block List).
const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum Cloud {
    Gcs,
    Azure,
}

impl Cloud {
    /// A user whose shell points this cloud's client at the emulator, as DIR/env does.
    fn user(self) -> Ark {
        let ark = Ark::new();
        let env = ark.env();
        match self {
            Cloud::Gcs => ark.with_var("GOOGLE_SERVICE_ACCOUNT", env.var("GOOGLE_SERVICE_ACCOUNT")),
            Cloud::Azure => ark
                .with_var("AZURE_STORAGE_USE_EMULATOR", "true")
                .with_var("AZURITE_BLOB_STORAGE_URL", env.var("AZURITE_BLOB_STORAGE_URL")),
        }
    }

    fn url(self, bucket: &str) -> String {
        match self {
            Cloud::Gcs => format!("gs://{bucket}/ark"),
            Cloud::Azure => format!("az://{bucket}/ark"),
        }
    }

    /// A new, empty bucket (GCS) or container (Azure) in the emulator.
    fn create_bucket(self) -> String {
        let bucket = unique("ark-os");
        match self {
            Cloud::Gcs => {
                let out = curl(&[
                    "-X",
                    "POST",
                    "-H",
                    "Content-Type: application/json",
                    "--data",
                    &serde_json::json!({ "name": bucket }).to_string(),
                    &format!("{}/storage/v1/b", gcs_endpoint()),
                ]);
                assert!(out.status.success(), "create bucket {bucket}: {}", stdout(&out));
            }
            Cloud::Azure => {
                let (status, body) = azurite("PUT", &bucket, &[("restype", "container")]);
                assert_eq!(status, 201, "create container {bucket}: {body}");
            }
        }
        bucket
    }

    /// Adds `name`, the default location of `ark`, for a fresh bucket; returns the bucket.
    fn add_location(self, ark: &Ark, name: &str) -> String {
        let bucket = self.create_bucket();
        ark.ok(&["config", "set-location", name, &self.url(&bucket), "--default"]);
        bucket
    }

    /// Keys under `prefix` in `bucket`, as the emulator lists them.
    fn keys(self, bucket: &str, prefix: &str) -> Vec<String> {
        match self {
            Cloud::Gcs => {
                let out = curl(&[
                    "--get",
                    "--data-urlencode",
                    &format!("prefix={prefix}"),
                    &format!("{}/storage/v1/b/{bucket}/o", gcs_endpoint()),
                ]);
                assert!(out.status.success(), "list bucket {bucket}: {}", stdout(&out));
                let listing: Value = serde_json::from_slice(&out.stdout).expect("a JSON object listing");
                let items = listing["items"].as_array().cloned().unwrap_or_default();
                items.iter().map(|o| o["name"].as_str().expect("objects have names").to_owned()).collect()
            }
            Cloud::Azure => {
                let query = [("comp", "list"), ("prefix", prefix), ("restype", "container")];
                let (status, body) = azurite("GET", bucket, &query);
                assert_eq!(status, 200, "list container {bucket}: {body}");
                xml_values(&body, "Name")
            }
        }
    }
}

fn gcs_endpoint() -> &'static str {
    support::env().var("ARK_TEST_GCS_ENDPOINT")
}

/// curl with the answer's body on stdout; fails on HTTP errors.
fn curl(args: &[&str]) -> Output {
    Command::new("curl").arg("-sS").arg("--fail-with-body").args(args).output().expect("run curl")
}

/// A request to Azurite's Blob service signed with the emulator account's Shared Key
/// (<https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key>); `path` is
/// `container` or `container/blob`. Returns the status and the body.
fn azurite(method: &str, path: &str, query: &[(&str, &str)]) -> (u16, String) {
    let env = support::env();
    let account = env.var("ARK_TEST_AZURITE_ACCOUNT");
    let version = "2021-08-06";
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let mut query = query.to_vec();
    query.sort();
    let canonical_query: String = query.iter().map(|(k, v)| format!("\n{k}:{v}")).collect();
    // Path-style URLs name the account in the path too, and the canonical resource repeats it.
    let string_to_sign = format!(
        "{method}\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{account}/{account}/{path}{canonical_query}"
    );
    let key = openssl(&["base64", "-d", "-A"], env.var("ARK_TEST_AZURITE_KEY").as_bytes());
    let hex_key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mac = openssl(
        &["dgst", "-sha256", "-mac", "HMAC", "-macopt", &format!("hexkey:{hex_key}"), "-binary"],
        string_to_sign.as_bytes(),
    );
    let signature = String::from_utf8(openssl(&["base64", "-A"], &mac)).expect("base64 is ASCII");
    let mut args = vec![
        "-s".to_owned(),
        "-X".to_owned(),
        method.to_owned(),
        "-w".to_owned(),
        "\n%{http_code}".to_owned(),
        "-H".to_owned(),
        format!("x-ms-date: {date}"),
        "-H".to_owned(),
        format!("x-ms-version: {version}"),
        "-H".to_owned(),
        format!("Authorization: SharedKey {account}:{signature}"),
        "-H".to_owned(),
        "Content-Length: 0".to_owned(),
        "--get".to_owned(),
    ];
    // --get puts the query in the URL; -X keeps the method.
    for (k, v) in &query {
        args.push("--data-urlencode".to_owned());
        args.push(format!("{k}={v}"));
    }
    args.push(format!("{}/{account}/{path}", env.var("ARK_TEST_AZURITE_ENDPOINT")));
    let out = Command::new("curl").args(&args).output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').expect("curl printed the status");
    (status.parse().expect("an HTTP status"), body.to_owned())
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child =
        Command::new("openssl").args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("run openssl");
    child.stdin.take().expect("piped stdin").write_all(input).expect("write to openssl");
    let out = child.wait_with_output().expect("wait for openssl");
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

fn create_namespace() -> String {
    let namespace = unique("os");
    let out = kubectl(&["create", "namespace", &namespace]);
    assert!(out.status.success(), "{}", stderr(&out));
    namespace
}

fn kubectl_ok(args: &[&str]) {
    let out = kubectl(args);
    assert!(out.status.success(), "kubectl {args:?}: {}", stderr(&out));
}

/// What the user wrote into an object and expects back: labels (without ark's own), data,
/// type and spec.
fn user_view(obj: &Value) -> Value {
    let mut labels = obj["metadata"]["labels"].as_object().cloned().unwrap_or_default();
    labels.remove("ark-restore");
    labels.remove("ark-backup");
    serde_json::json!({
        "labels": labels,
        "data": obj["data"],
        "binaryData": obj["binaryData"],
        "type": obj["type"],
        "spec": obj["spec"],
    })
}

fn live(kind: &str, namespace: &str, name: &str) -> Value {
    let out = kubectl(&["get", kind, name, "-n", namespace, "-o", "json"]);
    assert!(out.status.success(), "{kind} {namespace}/{name}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("kubectl -o json")
}

fn restore_completes(ark: &Ark, backup: &str) {
    let out = ark.run(&["restore", "create", "--from-backup", backup, "-o", "json"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report = json(&out);
    assert_eq!(report["phase"], "Completed", "{report}");
}

fn backup_names(ark: &Ark) -> Vec<String> {
    let table = ark.ok(&["backup", "get"]);
    table.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect()
}

fn namespace_comes_back_after_deletion(cloud: Cloud) {
    let ark = cloud.user();
    let bucket = cloud.add_location(&ark, "cloud");
    let ns = create_namespace();
    kubectl_ok(&["create", "configmap", "settings", "-n", &ns, "--from-literal=mode=blue", "--from-literal=workers=4"]);
    kubectl_ok(&["create", "secret", "generic", "db-credentials", "-n", &ns, "--from-literal=password=s3cr3t"]);
    kubectl_ok(&["create", "deployment", "web", "-n", &ns, "--image=registry.example/web:1.4", "--replicas=2"]);
    kubectl_ok(&["label", "deployment", "web", "-n", &ns, "tier=frontend"]);
    let objects = [("configmap", "settings"), ("secret", "db-credentials"), ("deployment", "web")];
    let before: Vec<Value> = objects.iter().map(|(kind, name)| user_view(&live(kind, &ns, name))).collect();

    let backup = unique("os-backup");
    let out = ark.ok(&["backup", "create", &backup, "--include-namespaces", &ns]);
    assert!(out.contains(&cloud.url(&bucket)), "the summary names the location: {out}");
    let table = ark.ok(&["backup", "get"]);
    let row = table.lines().find(|l| l.starts_with(&format!("{backup} "))).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("Completed"), "{table}");
    let keys = cloud.keys(&bucket, &format!("ark/backups/{backup}/"));
    for file in ["ark-backup.json".to_owned(), format!("{backup}.tar.gz"), format!("{backup}-logs.gz")] {
        assert!(keys.contains(&format!("ark/backups/{backup}/{file}")), "{file} not in the bucket: {keys:?}");
    }

    delete_namespaces(&[&ns]);
    restore_completes(&ark, &backup);
    let after: Vec<Value> = objects.iter().map(|(kind, name)| user_view(&live(kind, &ns, name))).collect();
    assert_eq!(after, before);
    let _ = kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

#[test]
fn gcs_namespace_comes_back_after_deletion() {
    namespace_comes_back_after_deletion(Cloud::Gcs);
}

#[test]
fn azure_namespace_comes_back_after_deletion() {
    namespace_comes_back_after_deletion(Cloud::Azure);
}

fn another_home_finds_the_backup_by_sync(cloud: Cloud) {
    let writer = cloud.user();
    let bucket = cloud.add_location(&writer, "cloud");
    let ns = create_namespace();
    kubectl_ok(&["create", "configmap", "one", "-n", &ns, "--from-literal=k=v"]);
    let backup = unique("os-shared");
    writer.ok(&["backup", "create", &backup, "-n", &ns, "--include-resources", "configmaps"]);

    let reader = cloud.user();
    reader.ok(&["config", "set-location", "cloud", &cloud.url(&bucket), "--default"]);
    let synced = json(&reader.run(&["sync", "-o", "json"]));
    assert_eq!(synced["locations"][0]["location"], "cloud", "{synced}");
    assert_eq!(synced["locations"][0]["added"], serde_json::json!([backup]), "{synced}");
    assert_eq!(backup_names(&reader), vec![backup.clone()]);
    let describe = reader.ok(&["backup", "describe", &backup]);
    assert!(describe.contains("Completed"), "{describe}");
    let _ = kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

#[test]
fn gcs_another_home_finds_the_backup_by_sync() {
    another_home_finds_the_backup_by_sync(Cloud::Gcs);
}

#[test]
fn azure_another_home_finds_the_backup_by_sync() {
    another_home_finds_the_backup_by_sync(Cloud::Azure);
}

fn gc_deletes_the_expired_backup_from_the_bucket(cloud: Cloud) {
    let ark = cloud.user();
    let bucket = cloud.add_location(&ark, "cloud");
    let ns = create_namespace();
    kubectl_ok(&["create", "configmap", "one", "-n", &ns, "--from-literal=k=v"]);
    let only_cm = ["-n", ns.as_str(), "--include-resources", "configmaps"];
    ark.ok(&[&["backup", "create", "old", "--ttl", "1s"][..], &only_cm].concat());
    ark.ok(&[&["backup", "create", "young", "--ttl", "1h"][..], &only_cm].concat());
    assert!(!cloud.keys(&bucket, "ark/backups/old/").is_empty());
    std::thread::sleep(Duration::from_millis(1100));

    let reports = json(&ark.run(&["gc", "-o", "json"]));
    let report = &reports[0];
    assert_eq!(report["location"], "cloud", "{reports}");
    assert_eq!(report["deleted"].as_array().map(Vec::len), Some(1), "{reports}");
    assert_eq!(report["deleted"][0]["backup"], "old", "{reports}");
    assert_eq!(report["kept"], 1, "{reports}");

    assert_eq!(cloud.keys(&bucket, "ark/backups/old/"), Vec::<String>::new(), "the expired backup's objects");
    assert!(cloud.keys(&bucket, "ark/backups/young/").contains(&"ark/backups/young/ark-backup.json".to_owned()));
    assert_eq!(backup_names(&ark), vec!["young".to_owned()]);
    let _ = kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

#[test]
fn gcs_gc_deletes_the_expired_backup_from_the_bucket() {
    gc_deletes_the_expired_backup_from_the_bucket(Cloud::Gcs);
}

#[test]
fn azure_gc_deletes_the_expired_backup_from_the_bucket() {
    gc_deletes_the_expired_backup_from_the_bucket(Cloud::Azure);
}

fn multipart_sized_archive_round_trips(cloud: Cloud) {
    let ark = cloud.user();
    let bucket = cloud.add_location(&ark, "cloud");
    let ns = create_namespace();
    // Random bytes do not compress: 8 config maps of 640 KiB (binaryData, 853 KiB as base64) make
    // an archive of about 10 MiB, each object being stored twice (under its resource and its
    // preferred version).
    let blob = ark.home().join("blob");
    let names: Vec<String> = (0..8).map(|i| format!("blob-{i}")).collect();
    for name in &names {
        let mut random = vec![0; 640 * 1024];
        std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random)).unwrap();
        std::fs::write(&blob, &random).unwrap();
        kubectl_ok(&["create", "configmap", name, "-n", &ns, &format!("--from-file=blob={}", blob.display())]);
    }
    let before: Vec<Value> = names.iter().map(|n| user_view(&live("configmap", &ns, n))).collect();

    let backup = unique("os-large");
    ark.ok(&["backup", "create", &backup, "-n", &ns, "--include-resources", "configmaps"]);
    let record: Value = serde_json::from_str(&ark.ok(&["backup", "describe", &backup, "-o", "json"])).unwrap();
    let archive_bytes = record["archiveBytes"].as_u64().expect("the record has the archive's size");
    assert!(archive_bytes > MULTIPART_THRESHOLD, "{archive_bytes} bytes would not take the multipart path");
    let archive_key = format!("ark/backups/{backup}/{backup}.tar.gz");
    assert!(cloud.keys(&bucket, &archive_key).contains(&archive_key));

    let file = ark.home().join("archive.tar.gz");
    ark.ok(&["backup", "download", &backup, "--file", file.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), archive_bytes, "the whole archive comes back");

    delete_namespaces(&[&ns]);
    restore_completes(&ark, &backup);
    let after: Vec<Value> = names.iter().map(|n| user_view(&live("configmap", &ns, n))).collect();
    assert!(after == before, "the restored config maps differ from the backed-up ones");
    let _ = kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

#[test]
fn gcs_multipart_sized_archive_round_trips() {
    multipart_sized_archive_round_trips(Cloud::Gcs);
}

#[test]
fn azure_multipart_sized_archive_round_trips() {
    multipart_sized_archive_round_trips(Cloud::Azure);
}

/// Runs `ark config check` with `vars` on top of the user's; returns (exit code, stdout + stderr).
fn check(ark: &Ark, vars: &[(&str, &str)], location: &str) -> (i32, String) {
    let out = ark.command().envs(vars.iter().copied()).args(["config", "check", location]).output().unwrap();
    (out.status.code().unwrap_or(-1), format!("{}{}", stdout(&out), stderr(&out)))
}

fn assert_check_fails(result: (i32, String), expected: &[&str]) {
    let (code, text) = result;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("error: 1 of 1 storage locations failed the check"), "{text}");
    for needle in expected {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

#[test]
fn gcs_config_check_tells_a_working_location_from_a_broken_one() {
    let ark = Cloud::Gcs.user();
    let bucket = Cloud::Gcs.add_location(&ark, "good");
    ark.ok(&["config", "set-location", "missing", "gs://no-such-bucket-for-ark/ark"]);

    let (code, text) = check(&ark, &[], "good");
    assert_eq!(code, 0, "{text}");
    assert!(text.lines().any(|l| l.starts_with("good ") && l.ends_with(" ok")), "{text}");
    // The same service account given inline rather than as a file.
    let inline = std::fs::read_to_string(ark.env().var("GOOGLE_SERVICE_ACCOUNT")).unwrap();
    let inline_user = Ark::new().with_var("GOOGLE_SERVICE_ACCOUNT_KEY", &inline);
    inline_user.ok(&["config", "set-location", "good", &Cloud::Gcs.url(&bucket)]);
    let (code, text) = check(&inline_user, &[], "good");
    assert_eq!(code, 0, "{text}");

    assert_check_fails(check(&ark, &[], "missing"), &["missing", "NoSuchBucket", "HTTP 404"]);
    // fake-gcs-server accepts any token, so the credentials that fail here are those the client
    // cannot use at all: a missing service-account file, a key that is not a key.
    assert_check_fails(
        check(&ark, &[("GOOGLE_SERVICE_ACCOUNT", "/nonexistent/service-account.json")], "good"),
        &["open storage location good", "/nonexistent/service-account.json"],
    );
    let broken = ark.home().join("broken-service-account.json");
    let key = serde_json::json!({"gcs_base_url": gcs_endpoint(), "client_email": "ark@example.iam.gserviceaccount.com",
                                 "private_key_id": "1", "private_key": "not a PEM key"});
    std::fs::write(&broken, key.to_string()).unwrap();
    assert_check_fails(
        check(&ark, &[("GOOGLE_SERVICE_ACCOUNT", broken.to_str().unwrap())], "good"),
        &["open storage location good", "pem"],
    );
}

#[test]
fn azure_config_check_tells_a_working_location_from_a_broken_one() {
    let ark = Cloud::Azure.user();
    let container = Cloud::Azure.add_location(&ark, "good");
    ark.ok(&["config", "set-location", "missing", "az://no-such-container-for-ark/ark"]);

    let (code, text) = check(&ark, &[], "good");
    assert_eq!(code, 0, "{text}");
    assert!(text.lines().any(|l| l.starts_with("good ") && l.ends_with(" ok")), "{text}");

    assert_check_fails(check(&ark, &[], "missing"), &["missing", "ContainerNotFound", "HTTP 404"]);
    // A well-formed key of the wrong account.
    let wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    assert_check_fails(
        check(&ark, &[("AZURE_STORAGE_ACCOUNT_KEY", wrong_key)], "good"),
        &["AuthorizationFailure", "HTTP 403"],
    );

    // Without the emulator switch: an account, its key and the blob endpoint, as for an Azure
    // Stack or sovereign-cloud account (plain HTTP allowed only because the emulator is local).
    let env = ark.env();
    let endpoint = format!("{}/{}", env.var("ARK_TEST_AZURITE_ENDPOINT"), env.var("ARK_TEST_AZURITE_ACCOUNT"));
    let by_endpoint = Ark::new()
        .with_var("AZURE_STORAGE_ACCOUNT_NAME", env.var("ARK_TEST_AZURITE_ACCOUNT"))
        .with_var("AZURE_STORAGE_ACCOUNT_KEY", env.var("ARK_TEST_AZURITE_KEY"))
        .with_var("AZURE_STORAGE_ENDPOINT", &endpoint)
        .with_var("AZURE_ALLOW_HTTP", "true");
    by_endpoint.ok(&["config", "set-location", "good", &Cloud::Azure.url(&container)]);
    let (code, text) = check(&by_endpoint, &[], "good");
    assert_eq!(code, 0, "{text}");
    // With neither the switch nor an account, the client cannot be built: said before any request.
    let nobody = Ark::new();
    nobody.ok(&["config", "set-location", "good", &Cloud::Azure.url(&container)]);
    assert_check_fails(check(&nobody, &[], "good"), &["open storage location good", "Account must be specified"]);
}
