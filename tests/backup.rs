//! End-to-end: `ark backup` against the real apiserver, into moto's S3 and file:// locations.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde_json::Value;
use support::{
    Ark, apply_in_namespace, apply_manifest, bucket_keys, corpus_dir, delete_namespaces, fixture, kubectl,
    kubectl_create, server_version, stderr, stdout, unique,
};

/// Reads a backup archive into `path -> object`, skipping the `-preferredversion` copies after
/// checking they match.
fn read_archive(path: &std::path::Path) -> BTreeMap<String, Value> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut items = BTreeMap::new();
    let mut preferred = BTreeMap::new();
    let mut saw_version = false;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut body = String::new();
        entry.read_to_string(&mut body).unwrap();
        if name == "metadata/version" {
            assert_eq!(body, "1.1.0");
            saw_version = true;
            continue;
        }
        let value: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.contains("-preferredversion/") {
            preferred.insert(name, value);
        } else {
            items.insert(name, value);
        }
    }
    assert!(saw_version, "metadata/version present");
    assert_eq!(preferred.len(), items.len(), "every item also under its preferred version");
    items
}

/// The archive path of an object of type `gr` (`deployments.apps`, `configmaps`).
fn archive_path(gr: &str, obj: &Value) -> String {
    let name = obj["metadata"]["name"].as_str().unwrap();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("resources/{gr}/namespaces/{ns}/{name}.json"),
        None => format!("resources/{gr}/cluster/{name}.json"),
    }
}

fn backup_json(ark: &Ark, name: &str) -> Value {
    serde_json::from_str(&ark.ok(&["backup", "describe", name, "-o", "json"])).unwrap()
}

fn create_configmaps(namespace: &str, names: &[&str], labels: &str) {
    for name in names {
        let out = kubectl(&["create", "configmap", name, "-n", namespace, "--from-literal=key=value"]);
        assert!(out.status.success(), "{}", stderr(&out));
        if !labels.is_empty() {
            let mut args = vec!["label", "configmap", name, "-n", namespace];
            args.extend(labels.split(' '));
            assert!(kubectl(&args).status.success());
        }
    }
}

fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()
}

#[test]
fn backup_of_realistic_manifests_holds_every_object_as_the_api_returns_it() {
    let apps = ["storefront.yaml", "ledger-statefulset.yaml", "blog-mysql.yaml"].map(fixture);
    backup_holds_every_object_as_the_api_returns_it(&apps);
}

#[test]
fn backup_of_real_world_manifests_holds_every_object_as_the_api_returns_it() {
    let Some(corpus) = corpus_dir("backup_of_real_world_manifests") else { return };
    let apps = ["microservices-demo-v0.7.0.yaml", "cassandra-statefulset.yaml", "wordpress-mysql-pvc.yaml"]
        .map(|m| corpus.join(m).display().to_string());
    backup_holds_every_object_as_the_api_returns_it(&apps);
}

/// `apps`: a web shop, a StatefulSet and a database whose Deployment reads the Secret
/// `mysql-pass`, each applied into a namespace of its own.
fn backup_holds_every_object_as_the_api_returns_it(apps: &[String; 3]) {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    let namespaces = [unique("shop"), unique("stateful"), unique("database")];
    for (ns, manifest) in namespaces.iter().zip(apps) {
        apply_in_namespace(ns, manifest);
    }
    let secret = kubectl(&[
        "create",
        "secret",
        "generic",
        "mysql-pass",
        "-n",
        &namespaces[2],
        "--from-literal=password=hunter2",
    ]);
    assert!(secret.status.success());

    let name = unique("corpus");
    let include = namespaces.join(",");
    let out = ark.run(&["backup", "create", &name, "--include-namespaces", &include]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("completed"), "{}", stdout(&out));
    assert!(!stderr(&out).contains("hunter2") && !stdout(&out).contains("hunter2"), "no secret data printed");

    let record = backup_json(&ark, &name);
    assert_eq!(record["phase"], "Completed");
    assert_eq!(record["formatVersion"], "1.1.0");
    assert_eq!(record["serverVersion"], server_version());
    let revision: u64 = record["revision"].as_str().unwrap().parse().unwrap();
    assert!(record["notAtRevision"].is_null(), "every type at the revision: {record}");

    let keys = bucket_keys(&bucket, &format!("ark/backups/{name}/"));
    for suffix in [
        "ark-backup.json",
        &format!("{name}.tar.gz"),
        &format!("{name}-logs.gz"),
        &format!("{name}-resource-list.json.gz"),
    ] {
        assert!(keys.contains(&format!("ark/backups/{name}/{suffix}")), "{suffix} in {keys:?}");
    }

    let archive_file = ark.home().join("b.tar.gz");
    ark.ok(&["backup", "download", &name, "--file", archive_file.to_str().unwrap()]);
    let archived = read_archive(&archive_file);

    // Every object the API lists in those namespaces (minus the documented exclusions) is in the
    // archive; unchanged since the revision, it is byte-for-byte what a GET returns.
    let types = String::from_utf8(
        kubectl(&["api-resources", "--namespaced=true", "--verbs=list,get,create,delete", "-o", "name"]).stdout,
    )
    .unwrap();
    let mut checked = 0;
    for ns in &namespaces {
        for t in types.lines().filter(|t| !["events", "events.events.k8s.io", "leases.coordination.k8s.io"].contains(t))
        {
            let out = kubectl(&["get", t, "-n", ns, "-o", "json", "--show-managed-fields"]);
            if !out.status.success() {
                continue; // a type another test removed meanwhile
            }
            let list: Value = serde_json::from_slice(&out.stdout).unwrap();
            for item in list["items"].as_array().unwrap() {
                let path = archive_path(t, item);
                if rv(item) > revision {
                    continue; // changed (or created) after the backup's revision
                }
                let stored = archived.get(&path).unwrap_or_else(|| panic!("{path} missing from the archive"));
                assert_eq!(stored, item, "{path} differs from a GET");
                checked += 1;
            }
        }
        assert!(archived.contains_key(&format!("resources/namespaces/cluster/{ns}.json")), "namespace {ns}");
    }
    assert!(checked >= 30, "compared {checked} objects");
    let secret =
        archived.keys().find(|k| k.starts_with("resources/secrets/") && k.ends_with("/mysql-pass.json")).unwrap();
    assert_eq!(archived[secret]["data"]["password"], "aHVudGVyMg==");

    // Every archived object is from this backup's namespaces or what they need, and kept its
    // apiVersion and kind.
    for (path, obj) in &archived {
        assert!(obj["apiVersion"].is_string() && obj["kind"].is_string(), "{path}");
        if let Some(ns) = obj["metadata"]["namespace"].as_str() {
            assert!(namespaces.iter().any(|n| n == ns), "{path} outside the backup's namespaces");
        }
        assert!(rv(obj) <= revision, "{path} is newer than the revision");
    }

    // get, logs and describe --details read the same bucket.
    let table = ark.ok(&["backup", "get"]);
    assert!(table.lines().any(|l| l.starts_with(&name) && l.contains("Completed")), "{table}");
    let log = ark.ok(&["backup", "logs", &name]);
    assert!(log.contains("backed up") && log.contains("configmaps"), "{log}");
    let details = ark.ok(&["backup", "describe", &name, "--details"]);
    assert!(
        details.contains("apps/v1/Deployment") && details.contains(&format!("{}/frontend", namespaces[0])),
        "{details}"
    );
}

#[test]
fn filters_select_exactly_what_they_say() {
    let ark = Ark::new();
    let id = unique("f");
    let team_a = format!("{id}-team-a");
    let team_b = format!("{id}-team-b");
    let other = unique("other");
    for ns in [&team_a, &team_b, &other] {
        assert!(kubectl(&["create", "namespace", ns]).status.success());
        create_configmaps(ns, &["web", "db"], "");
        assert!(kubectl(&["label", "configmap", "web", "-n", ns, "tier=web"]).status.success());
        assert!(kubectl(&["create", "secret", "generic", "s", "-n", ns, "--from-literal=a=b"]).status.success());
    }
    create_configmaps(&team_a, &["skipped"], "ark.heptio.com/exclude-from-backup=true");

    let glob = format!("{id}-team-[a]*");
    let archived = |args: &[&str]| {
        let name = unique("filtered");
        let mut full = vec!["backup", "create", &name];
        full.extend_from_slice(args);
        ark.ok(&full);
        let file = ark.home().join(format!("{name}.tar.gz"));
        ark.ok(&["backup", "download", &name, "--file", file.to_str().unwrap()]);
        let keys: BTreeSet<String> = read_archive(&file).into_keys().collect();
        (name, keys)
    };
    let cm = |ns: &str, name: &str| format!("resources/configmaps/namespaces/{ns}/{name}.json");

    // Namespace glob + one resource type by short name.
    let (name, keys) = archived(&["--include-namespaces", &glob, "--include-resources", "cm"]);
    assert!(keys.contains(&cm(&team_a, "web")) && keys.contains(&cm(&team_a, "db")));
    assert!(!keys.contains(&cm(&team_b, "web")) && !keys.contains(&cm(&other, "web")), "glob {glob}");
    assert!(!keys.iter().any(|k| k.starts_with("resources/secrets/")), "only config maps");
    assert!(!keys.contains(&cm(&team_a, "skipped")), "opt-out label honoured");
    assert_eq!(backup_json(&ark, &name)["itemsExcludedByLabel"], 1);

    // Patterns that match no namespace are warned about, on the terminal and in the record:
    // a typo must not pass for an empty namespace.
    let (name, typo) = (unique("typo"), format!("{id}-teem-*"));
    let out = ark.run(&["backup", "create", &name, "--include-namespaces", &format!("{glob},{typo}")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = format!("namespace pattern {typo} matches no namespace");
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("Backup {name} completed with ")), "{}", stdout(&out));
    // Other tests delete their CRDs meanwhile: a type gone during the backup is warned about too.
    let warnings = backup_json(&ark, &name)["warnings"].as_array().cloned().unwrap_or_default();
    assert!(warnings.contains(&Value::from(warning.as_str())), "{warnings:?}");
    assert!(
        warnings.iter().all(|w| *w == warning.as_str() || w.as_str().unwrap().contains("no longer served")),
        "{warnings:?}"
    );

    // Label selector and excluded namespace.
    let both = format!("{team_a},{team_b}");
    let (_, keys) = archived(&["-n", &both, "--exclude-namespaces", &team_b, "-l", "tier=web"]);
    assert!(keys.contains(&cm(&team_a, "web")));
    assert!(!keys.contains(&cm(&team_a, "db")) && !keys.contains(&cm(&team_b, "web")));
    // Namespaces are objects like the others: the selector picks them too.
    let namespace = |ns: &str| format!("resources/namespaces/cluster/{ns}.json");
    assert!(!keys.contains(&namespace(&team_a)), "an unlabelled namespace is not selected: {keys:?}");
    assert!(kubectl(&["label", "namespace", &team_a, "tier=web"]).status.success());
    let (_, keys) = archived(&["-n", &both, "-l", "tier=web"]);
    assert!(keys.contains(&namespace(&team_a)) && !keys.contains(&namespace(&team_b)), "{keys:?}");

    // --or-selector: either selector matches.
    let (_, keys) = archived(&[
        "-n",
        &team_a,
        "--include-resources",
        "configmaps",
        "--or-selector",
        "tier=web",
        "--or-selector",
        "tier=none",
    ]);
    assert!(keys.contains(&cm(&team_a, "web")) && !keys.contains(&cm(&team_a, "db")));

    // Namespaced backups leave unrelated cluster-scoped objects out; --include-cluster-resources adds them.
    let (_, keys) = archived(&["-n", &team_a]);
    assert!(!keys.iter().any(|k| k.starts_with("resources/clusterroles.")), "no cluster roles in a namespaced backup");
    let (_, keys) = archived(&["-n", &team_a, "--include-cluster-resources"]);
    assert!(keys.iter().any(|k| k.starts_with("resources/clusterroles.rbac.authorization.k8s.io/cluster/")));
    let (_, keys) =
        archived(&["-n", &team_a, "--include-resources", "configmaps", "--include-cluster-resources=false"]);
    assert!(keys.iter().all(|k| !k.contains("/cluster/") || k.starts_with("resources/namespaces/")), "{keys:?}");
}

#[test]
fn namespaced_backup_brings_the_pvs_and_crds_its_objects_need() {
    let ark = Ark::new();
    let ns = unique("pvc");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    let pv = unique("pv");
    let crd_group = format!("{}.example.com", unique("g"));
    let manifest = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[
{{"apiVersion":"v1","kind":"PersistentVolume","metadata":{{"name":"{pv}"}},"spec":{{"capacity":{{"storage":"1Gi"}},"accessModes":["ReadWriteOnce"],"hostPath":{{"path":"/tmp/x"}},"claimRef":{{"namespace":"{ns}","name":"data"}}}}}},
{{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{{"name":"data","namespace":"{ns}"}},"spec":{{"accessModes":["ReadWriteOnce"],"resources":{{"requests":{{"storage":"1Gi"}}}},"volumeName":"{pv}","storageClassName":""}}}},
{{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{{"name":"widgets.{crd_group}"}},"spec":{{"group":"{crd_group}","scope":"Namespaced","names":{{"plural":"widgets","singular":"widget","kind":"Widget"}},"versions":[{{"name":"v1","served":true,"storage":true,"schema":{{"openAPIV3Schema":{{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}}]}}}}
]}}"#
    );
    let file = ark.home().join("m.json");
    std::fs::write(&file, manifest).unwrap();
    let out = kubectl(&["create", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let widget = format!(
        r#"{{"apiVersion":"{crd_group}/v1","kind":"Widget","metadata":{{"name":"w1","namespace":"{ns}"}},"size":3}}"#
    );
    let widget_file = ark.home().join("w.json");
    std::fs::write(&widget_file, widget).unwrap();
    let mut created = false;
    for _ in 0..50 {
        if kubectl(&["create", "-f", widget_file.to_str().unwrap()]).status.success() {
            created = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(created, "custom resource created once its CRD is established");

    let name = unique("needs");
    ark.ok(&["backup", "create", &name, "-n", &ns]);
    let file = ark.home().join("needs.tar.gz");
    ark.ok(&["backup", "download", &name, "--file", file.to_str().unwrap()]);
    let archived = read_archive(&file);
    assert!(archived.contains_key(&format!("resources/persistentvolumes/cluster/{pv}.json")), "bound PV");
    assert!(
        archived.contains_key(&format!("resources/widgets.{crd_group}/namespaces/{ns}/w1.json")),
        "custom resource"
    );
    assert_eq!(archived[&format!("resources/widgets.{crd_group}/namespaces/{ns}/w1.json")]["size"], 3);
    assert!(
        archived.contains_key(&format!(
            "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.{crd_group}.json"
        )),
        "its CRD"
    );
    let cluster_scoped: Vec<&String> = archived.keys().filter(|k| k.contains("/cluster/")).collect();
    assert_eq!(cluster_scoped.len(), 3, "namespace, PV and CRD only: {cluster_scoped:?}");
    let _ = kubectl(&["delete", "crd", &format!("widgets.{crd_group}")]);
    let _ = kubectl(&["patch", "pv", &pv, "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
    let _ = kubectl(&["delete", "pv", &pv, "--wait=false"]);
}

#[test]
fn backup_during_writes_is_one_point_in_time() {
    let ark = Ark::new();
    let ns = unique("busy");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    let names: Vec<String> = (0..300).map(|i| format!("seed-{i}")).collect();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": names.iter().map(|n| serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": &ns}, "data": {"v": "0"}})).collect::<Vec<_>>()});
    let file = ark.home().join("seed.json");
    std::fs::write(&file, list.to_string()).unwrap();
    assert!(kubectl(&["create", "-f", file.to_str().unwrap()]).status.success());

    // A writer keeps creating and updating config maps while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, ns) = (stop.clone(), ns.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 400 {
                let _ = kubectl(&["create", "configmap", &format!("live-{i}"), "-n", &ns]);
                let _ = kubectl(&[
                    "patch",
                    "configmap",
                    &format!("seed-{i}"),
                    "-n",
                    &ns,
                    "-p",
                    &format!(r#"{{"data":{{"v":"{i}"}}}}"#),
                ]);
                i += 1;
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(500));
    let ark_cfg_dir = ark.home().join("pagesize");
    std::fs::create_dir_all(ark_cfg_dir.join("ark")).unwrap();
    // Small pages so the LIST spans many requests while the writer runs.
    let config = ark_cfg_dir.join("ark/config.yaml");
    std::fs::write(&config, "tuning:\n  pageSize: 10\n").unwrap();
    let name = unique("busy");
    ark.ok(&["--config", config.to_str().unwrap(), "backup", "create", &name, "-n", &ns]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();

    let record = serde_json::from_str::<Value>(&ark.ok(&[
        "--config",
        config.to_str().unwrap(),
        "backup",
        "describe",
        &name,
        "-o",
        "json",
    ]))
    .unwrap();
    let revision: u64 = record["revision"].as_str().unwrap().parse().unwrap();
    assert!(record["notAtRevision"].is_null());
    let file = ark.home().join("busy.tar.gz");
    ark.ok(&["--config", config.to_str().unwrap(), "backup", "download", &name, "--file", file.to_str().unwrap()]);
    let archived = read_archive(&file);
    let max_rv = archived.values().map(rv).max().unwrap();
    assert!(max_rv <= revision, "nothing newer than revision {revision} (saw {max_rv})");
    // Everything that existed at the revision is there, in its state at the revision.
    let live: Value = serde_json::from_slice(
        &kubectl(&["get", "configmaps", "-n", &ns, "-o", "json", "--show-managed-fields"]).stdout,
    )
    .unwrap();
    let mut unchanged = 0;
    for item in live["items"].as_array().unwrap() {
        let path = archive_path("configmaps", item);
        if rv(item) <= revision {
            assert_eq!(archived.get(&path), Some(item), "{path}");
            unchanged += 1;
        }
    }
    assert!(unchanged > 0);
    let archived_cms = archived.keys().filter(|k| k.starts_with("resources/configmaps/")).count();
    assert!(archived_cms >= 300, "seeded config maps all there ({archived_cms})");
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    let exists = unique("exists");
    let ns = unique("bad");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    ark.ok(&["backup", "create", &exists, "-n", &ns]);
    let before = bucket_keys(&bucket, "ark/");

    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["backup", "create", "Not_A_Name"], 2, "DNS-1123"),
        (vec!["backup", "create", &exists, "-n", &ns], 2, "already exists"),
        (vec!["backup", "create", "x1", "--include-resources", "flurbs"], 2, "flurbs"),
        (vec!["backup", "create", "x2", "-l", "a in b"], 2, "a in b"),
        (vec!["backup", "create", "x3", "-n", "[unclosed"], 2, "[unclosed"),
        (vec!["backup", "create", "x4", "--storage-location", "nope"], 2, "nope"),
        (vec!["backup", "describe", "no-such-backup"], 1, "not found"),
        (vec!["backup", "create", "x5", "--kubeconfig", "/nonexistent/kubeconfig"], 1, "/nonexistent/kubeconfig"),
    ];
    for (args, code, needle) in cases {
        let out = ark.run(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(bucket_keys(&bucket, "ark/"), before, "nothing written by refused requests");

    // A missing bucket: the backup fails clearly and nothing is listed.
    let endpoint = ark.env().s3_endpoint().to_owned();
    ark.ok(&["config", "set-location", "gone", "s3://no-such-bucket-at-all", "--endpoint", &endpoint, "--path-style"]);
    let out = ark.run(&["backup", "create", "x6", "-n", &ns, "--storage-location", "gone"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("NoSuchBucket"), "{}", stderr(&out));

    // Unreachable cluster.
    let kubeconfig = ark.home().join("down.yaml");
    std::fs::write(&kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c\n").unwrap();
    let out = ark.run(&["backup", "create", "x7", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("127.0.0.1:1"), "{}", stderr(&out));
    assert_eq!(bucket_keys(&bucket, "ark/"), before);

    // Delete removes every object under the backup's prefix.
    ark.ok(&["backup", "delete", &exists, "--confirm"]);
    assert!(bucket_keys(&bucket, &format!("ark/backups/{exists}/")).is_empty());
    let out = ark.run(&["backup", "delete", "whatever"]);
    assert_eq!(out.status.code(), Some(2), "no prompt without a terminal: {}", stderr(&out));
    assert!(stderr(&out).contains("--yes"));
}

#[test]
fn backup_to_a_file_location_works_without_any_config() {
    let ark = Ark::new();
    let ns = unique("local");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    create_configmaps(&ns, &["a"], "");
    let name = unique("local");
    let out = ark.run(&["backup", "create", &name, "-n", &ns, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["phase"], "Completed");
    assert!(record["resourceCounts"]["configmaps"].as_u64().unwrap() >= 1);
    let dir = ark.home().join(format!("data/ark/backups/backups/{name}"));
    assert!(dir.join(format!("{name}.tar.gz")).is_file() && dir.join("ark-backup.json").is_file());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(ark.home().join("data/ark/backups")).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "backup directory private");
    let yaml = ark.ok(&["backup", "get", "-o", "yaml"]);
    assert!(yaml.contains(&format!("name: {name}")));
}

#[test]
fn whole_cluster_backup_holds_crds_custom_resources_and_cluster_scoped_objects() {
    // The operator names its namespace (default) and brings three CRDs, one with a schema of
    // about 300 KB; its custom resources include a cluster-scoped one; the local PVs are
    // cluster-scoped.
    let (operator, resources, volumes) =
        (fixture("widget-operator.yaml"), fixture("widgets.yaml"), fixture("local-pvs.yaml"));
    apply_manifest(&operator);
    apply_manifest(&volumes);
    let crds =
        ["crd/widgets.fixtures.ark.dev", "crd/gadgetclasses.fixtures.ark.dev", "crd/fleetconfigs.fixtures.ark.dev"];
    let established = kubectl(&[&["wait", "--for", "condition=established", "--timeout=60s"][..], &crds].concat());
    assert!(established.status.success(), "{}", stderr(&established));
    let out = kubectl(&["apply", "--server-side", "-n", "default", "-f", &resources]);
    assert!(out.status.success(), "{}", stderr(&out));
    whole_cluster_backup_holds(
        &[operator, resources, volumes],
        &[
            "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/fleetconfigs.fixtures.ark.dev.json",
            "resources/widgets.fixtures.ark.dev/namespaces/default/sprocket.json",
            "resources/widgets.fixtures.ark.dev/namespaces/default/legacy-sprocket.json",
            "resources/gadgetclasses.fixtures.ark.dev/cluster/fast-gadgets.json",
            "resources/persistentvolumes/cluster/blog-local-pv-1.json",
            "resources/clusterroles.rbac.authorization.k8s.io/cluster/widget-operator.json",
            "resources/deployments.apps/namespaces/default/widget-operator.json",
        ],
    );
}

#[test]
fn whole_cluster_backup_holds_a_real_world_operator_bundle() {
    let Some(corpus) = corpus_dir("whole_cluster_backup_holds_a_real_world_operator_bundle") else { return };
    // The operator bundle names its namespace (default) and brings ten CRDs, one of them about
    // 1 MB; the local PVs are cluster-scoped.
    let manifests =
        ["prometheus-operator-bundle.yaml", "wordpress-local-pvs.yaml"].map(|m| corpus.join(m).display().to_string());
    for manifest in &manifests {
        apply_manifest(manifest);
    }
    whole_cluster_backup_holds(
        &manifests,
        &[
            "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/prometheuses.monitoring.coreos.com.json",
            "resources/persistentvolumes/cluster/local-pv-1.json",
            "resources/clusterroles.rbac.authorization.k8s.io/cluster/prometheus-operator.json",
            "resources/deployments.apps/namespaces/default/prometheus-operator.json",
        ],
    );
}

/// Backs up the whole cluster once `manifests` are applied; checks that every object of the
/// cluster-scoped types is in the archive as a GET returns it, `must` among them, and deletes
/// what `manifests` created.
fn whole_cluster_backup_holds(manifests: &[String], must: &[&str]) {
    let ark = Ark::new();
    let name = unique("cluster");
    let out = ark.run(&["backup", "create", &name, "-o", "json"]);
    assert!(matches!(out.status.code(), Some(0) | Some(3)), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    let revision: u64 = record["revision"].as_str().unwrap().parse().unwrap();
    let file = ark.home().join("cluster.tar.gz");
    ark.ok(&["backup", "download", &name, "--file", file.to_str().unwrap()]);
    let archived = read_archive(&file);

    let mut checked = 0;
    for t in [
        "customresourcedefinitions.apiextensions.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "persistentvolumes",
        "namespaces",
        "priorityclasses.scheduling.k8s.io",
    ] {
        let list: Value =
            serde_json::from_slice(&kubectl(&["get", t, "-o", "json", "--show-managed-fields"]).stdout).unwrap();
        for item in list["items"].as_array().unwrap() {
            if rv(item) > revision {
                continue;
            }
            let path = archive_path(t, item);
            assert_eq!(archived.get(&path), Some(item), "{path}");
            checked += 1;
        }
    }
    for must in must {
        assert!(archived.contains_key(*must), "{must}");
    }
    assert!(checked > 50, "{checked}");
    assert!(
        !archived.keys().any(|k| k.starts_with("resources/events") || k.starts_with("resources/nodes/")),
        "default exclusions"
    );
    for manifest in manifests.iter().rev() {
        let _ = kubectl(&["delete", "-f", manifest, "--wait=false"]);
    }
}

/// An archive larger than the buffers between the listing, the archive writer and the upload,
/// listed in many small pages: everything must keep flowing (once, it all waited on itself).
/// With the apiserver asked to gzip its pages (each is over its 128 KiB threshold) and the
/// archive at gzip's slowest level, the non-default paths.
#[test]
fn a_backup_larger_than_its_buffers_completes() {
    let ark = Ark::new();
    let config = ark.home().join("config/ark");
    std::fs::create_dir_all(&config).unwrap();
    let tuning = "tuning:\n  pageSize: 1\n  compressResponses: true\n  compressionLevel: 9\n";
    std::fs::write(config.join("config.yaml"), tuning).unwrap();
    let ns = unique("big");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    // Hex of pseudo-random bytes: about half of it survives gzip.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let items: Vec<Value> = (0..30)
        .map(|i| {
            let data: String = (0..300_000)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    format!("{:02x}", state as u8)
                })
                .collect();
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("blob-{i}"), "namespace": ns}, "data": {"blob": data}})
        })
        .collect();
    kubectl_create(ark.home(), &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}));
    let name = unique("big");
    let out = ark.run(&["backup", "create", &name, "-n", &ns, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(record["resourceCounts"]["configmaps"].as_u64().unwrap() >= 30, "{record}");
    assert!(record["archiveBytes"].as_u64().unwrap() > 8 << 20, "{record}");
    delete_namespaces(&[&ns]);
}
