//! End-to-end: `ark restore` against the real apiserver, from backups in moto's S3.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::{
    Ark, apply_in_namespace, apply_manifest, corpus_dir, delete_namespaces, fixture, kubectl, kubectl_create,
    namespace_objects, stderr, stdout, unique,
};

/// An object as the restore promises to bring it back: what the user wrote (spec, data,
/// labels, annotations), without what the server assigns anew (uid, versions, cluster IPs,
/// node ports, token references) and without ark's own labels.
fn normalized(obj: &Value) -> Value {
    let mut obj = obj.clone();
    let map = obj.as_object_mut().unwrap();
    map.remove("status");
    map.remove("secrets");
    let meta = map.get_mut("metadata").and_then(Value::as_object_mut).unwrap();
    for field in
        ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink", "ownerReferences"]
    {
        meta.remove(field);
    }
    if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
        labels.remove("ark-restore");
        labels.remove("ark-backup");
    }
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        for key in [
            "pv.kubernetes.io/bind-completed",
            "pv.kubernetes.io/bound-by-controller",
            "volume.kubernetes.io/selected-node",
        ] {
            annotations.remove(key);
        }
    }
    meta.retain(|k, v| {
        !(matches!(k.as_str(), "labels" | "annotations") && v.as_object().is_some_and(|m| m.is_empty()))
    });
    if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
        spec.remove("healthCheckNodePort");
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                port.remove("nodePort");
            }
        }
    }
    obj
}

fn key(gr: &str, obj: &Value) -> String {
    format!(
        "{gr} {}/{}",
        obj["metadata"]["namespace"].as_str().unwrap_or(""),
        obj["metadata"]["name"].as_str().unwrap()
    )
}

fn restore_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// Outcome per object (`gr ns/name` -> (outcome, message)) from a restore's JSON report.
fn outcomes(report: &Value) -> BTreeMap<String, (String, String)> {
    report["results"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let k = format!(
                "{} {}/{}",
                i["resource"].as_str().unwrap(),
                i["namespace"].as_str().unwrap_or(""),
                i["name"].as_str().unwrap()
            );
            (k, (i["outcome"].as_str().unwrap().to_owned(), i["message"].as_str().unwrap_or("").to_owned()))
        })
        .collect()
}

#[test]
fn namespaces_of_realistic_manifests_come_back_after_deletion() {
    let apps = ["storefront.yaml", "ledger-statefulset.yaml", "blog-mysql.yaml"].map(fixture);
    namespaces_come_back_after_deletion(&apps);
}

#[test]
fn namespaces_of_real_world_manifests_come_back_after_deletion() {
    let Some(corpus) = corpus_dir("namespaces_of_real_world_manifests_come_back_after_deletion") else { return };
    let apps = ["microservices-demo-v0.7.0.yaml", "cassandra-statefulset.yaml", "wordpress-mysql-pvc.yaml"]
        .map(|m| corpus.join(m).display().to_string());
    namespaces_come_back_after_deletion(&apps);
}

/// `apps`: a web shop, a StatefulSet and a database whose Deployment reads the Secret
/// `mysql-pass`, each applied into a namespace of its own.
fn namespaces_come_back_after_deletion(apps: &[String; 3]) {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let namespaces: Vec<String> = apps.iter().map(|_| unique("apps")).collect();
    for (ns, manifest) in namespaces.iter().zip(apps) {
        apply_in_namespace(ns, manifest);
    }
    assert!(
        kubectl(&["create", "secret", "generic", "mysql-pass", "-n", &namespaces[2], "--from-literal=password=pw"])
            .status
            .success()
    );
    // Let the controllers create what they create (replica sets, pods, the StatefulSet's PVC).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let before: Vec<(String, Value)> = namespaces.iter().flat_map(|ns| namespace_objects(ns)).collect();
    assert!(before.len() > 60, "{} objects", before.len());

    let backup = unique("corpus");
    ark.ok(&["backup", "create", &backup, "--include-namespaces", &namespaces.join(",")]);
    let ns_refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    delete_namespaces(&ns_refs);

    let out = ark.run(&["restore", "create", "--from-backup", &backup, "-o", "json"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report = restore_json(&out);
    assert_eq!(report["phase"], "Completed", "{report}");
    let results = outcomes(&report);

    let mut restored = 0;
    let mut skipped = 0;
    for (gr, original) in &before {
        let k = key(gr, original);
        let (outcome, message) = results.get(&k).unwrap_or_else(|| panic!("{k} has no outcome"));
        if outcome == "skipped" {
            assert!(!message.is_empty(), "{k} skipped without a reason");
            skipped += 1;
            continue;
        }
        // The default service account is recreated by the cluster with the namespace.
        assert!(
            outcome == "created" || (outcome == "existsIdentical" && k.starts_with("serviceaccounts ")),
            "{k}: {outcome} {message}"
        );
        let ns = original["metadata"]["namespace"].as_str().unwrap();
        let name = original["metadata"]["name"].as_str().unwrap();
        let live = kubectl(&["get", gr, "-n", ns, name, "-o", "json"]);
        assert!(live.status.success(), "{k} is not back");
        let live: Value = serde_json::from_slice(&live.stdout).unwrap();
        assert_eq!(normalized(&live), normalized(original), "{k} differs");
        if outcome == "created" {
            assert_eq!(live["metadata"]["labels"]["ark-backup"], backup.as_str());
        }
        restored += 1;
    }
    assert!(restored >= 30 && skipped >= 10, "restored {restored}, skipped {skipped}");
    let reasons: Vec<&String> = results.values().filter(|(o, _)| o == "skipped").map(|(_, m)| m).collect();
    assert!(reasons.iter().any(|m| m.contains("ReplicaSet")), "pods of replica sets skipped: {reasons:?}");
    for (k, (outcome, _)) in &results {
        if k.starts_with("namespaces ") {
            assert_eq!(outcome, "created", "{k}");
        }
    }

    // A second run changes nothing: every object is already there.
    let out = ark.run(&["restore", "create", "--from-backup", &backup, "-o", "json"]);
    let again = restore_json(&out);
    assert_eq!(again["counts"].get("created"), None, "{}", again["counts"]);
    assert!(again["counts"]["existsIdentical"].as_u64().unwrap() >= 30, "{}", again["counts"]);

    let describe = ark.ok(&["restore", "describe", report["name"].as_str().unwrap()]);
    assert!(
        describe.contains("Phase:") && describe.contains("Completed") && describe.contains("skipped"),
        "{describe}"
    );
    let logs = ark.ok(&["restore", "logs", report["name"].as_str().unwrap()]);
    assert!(logs.contains("Created deployments.apps"), "{logs}");
}

#[test]
fn cluster_scoped_objects_of_an_ingress_controller_come_back_with_a_selector() {
    let objects = [
        "deployment/edge-gateway-controller",
        "configmap/edge-gateway-controller",
        "rolebinding/edge-gateway",
        "serviceaccount/edge-gateway",
    ];
    cluster_scoped_objects_come_back_with_a_selector(&fixture("edge-gateway.yaml"), "edge-gateway", &objects);
}

#[test]
fn cluster_scoped_objects_of_ingress_nginx_come_back_with_a_selector() {
    let Some(corpus) = corpus_dir("cluster_scoped_objects_of_ingress_nginx_come_back_with_a_selector") else { return };
    let objects = [
        "deployment/ingress-nginx-controller",
        "configmap/ingress-nginx-controller",
        "rolebinding/ingress-nginx",
        "serviceaccount/ingress-nginx",
    ];
    let path = corpus.join("ingress-nginx-cloud.yaml").display().to_string();
    cluster_scoped_objects_come_back_with_a_selector(&path, "ingress-nginx", &objects);
}

/// An ingress controller's install manifest (`path`): its own namespace (`app`) plus cluster roles,
/// bindings, an IngressClass and a webhook configuration, all labelled
/// app.kubernetes.io/part-of=`app`; `objects` are some of its namespaced ones.
fn cluster_scoped_objects_come_back_with_a_selector(path: &str, app: &str, objects: &[&str]) {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    apply_manifest(path);
    let selector = format!("app.kubernetes.io/part-of={app}");
    let selector = selector.as_str();
    let cluster_before = kubectl(&[
        "get",
        "clusterroles,clusterrolebindings,ingressclasses,validatingwebhookconfigurations",
        "-l",
        selector,
        "-o",
        "json",
    ]);
    let cluster_before: Value = serde_json::from_slice(&cluster_before.stdout).unwrap();
    assert_eq!(cluster_before["items"].as_array().unwrap().len(), 6);

    let backup = unique("ingress");
    ark.ok(&["backup", "create", &backup, "-l", selector, "--include-cluster-resources"]);
    let _ = kubectl(&["delete", "-f", path, "--wait=false"]);
    delete_namespaces(&[app]);

    let out = ark.run(&["restore", "create", "--from-backup", &backup, "-o", "json"]);
    let report = restore_json(&out);
    assert!(out.status.success(), "{report}");
    for item in cluster_before["items"].as_array().unwrap() {
        let kind = item["kind"].as_str().unwrap().to_ascii_lowercase();
        let name = item["metadata"]["name"].as_str().unwrap();
        let live = kubectl(&["get", &kind, name, "-o", "json"]);
        assert!(live.status.success(), "{kind} {name} not restored: {report}");
        let live: Value = serde_json::from_slice(&live.stdout).unwrap();
        assert_eq!(normalized(&live), normalized(item), "{kind} {name}");
    }
    for obj in objects {
        assert!(kubectl(&["get", obj, "-n", app]).status.success(), "{obj}");
    }
    let results = outcomes(&report);
    let jobs: Vec<_> = results.iter().filter(|(k, _)| k.starts_with("jobs.batch")).collect();
    assert!(!jobs.is_empty(), "the admission jobs have outcomes");
    let _ = kubectl(&["delete", "-f", path, "--wait=false"]);
    delete_namespaces(&[app]);
}

#[test]
fn namespace_mappings_copy_namespaces_and_rewrite_references() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let ns = unique("orig");
    let copy = unique("copy");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    for args in [
        vec!["create", "serviceaccount", "app", "-n", &ns],
        vec!["create", "role", "reader", "--verb=get", "--resource=configmaps", "-n", &ns],
        vec!["create", "rolebinding", "app-reads", "--role=reader", "-n", &ns],
        vec!["create", "configmap", "settings", "--from-literal=mode=fast", "-n", &ns],
    ] {
        assert!(kubectl(&args).status.success(), "{args:?}");
    }
    let subject = format!("--serviceaccount={ns}:app");
    assert!(kubectl(&["set", "subject", "rolebinding", "app-reads", &subject, "-n", &ns]).status.success());
    let originals = namespace_objects(&ns);

    let backup = unique("map");
    ark.ok(&["backup", "create", &backup, "-n", &ns]);
    let mapping = format!("{ns}:{copy}");
    let out = ark.run(&["restore", "create", "--from-backup", &backup, "--namespace-mappings", &mapping, "-o", "json"]);
    let report = restore_json(&out);
    assert_eq!(report["phase"], "Completed", "{report}");

    let binding: Value =
        serde_json::from_slice(&kubectl(&["get", "rolebinding", "app-reads", "-n", &copy, "-o", "json"]).stdout)
            .unwrap();
    assert_eq!(binding["subjects"][0]["namespace"], copy.as_str(), "subject follows the mapping");
    let cm: Value =
        serde_json::from_slice(&kubectl(&["get", "configmap", "settings", "-n", &copy, "-o", "json"]).stdout).unwrap();
    assert_eq!(cm["data"]["mode"], "fast");
    assert!(kubectl(&["get", "serviceaccount", "app", "-n", &copy]).status.success());
    let namespace: Value = serde_json::from_slice(&kubectl(&["get", "namespace", &copy, "-o", "json"]).stdout).unwrap();
    assert_eq!(namespace["metadata"]["labels"]["ark-restore"], report["name"]);
    // The originals were not touched.
    for (gr, original) in originals {
        let name = original["metadata"]["name"].as_str().unwrap();
        let live: Value = serde_json::from_slice(
            &kubectl(&["get", &gr, name, "-n", &ns, "-o", "json", "--show-managed-fields"]).stdout,
        )
        .unwrap();
        assert_eq!(live["metadata"]["resourceVersion"], original["metadata"]["resourceVersion"], "{gr} {name}");
    }

    let out =
        ark.run(&["restore", "create", "--from-backup", &backup, "--namespace-mappings", &format!("{ns}:Not_Valid")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Not_Valid"), "{}", stderr(&out));
}

#[test]
fn dry_run_reports_what_would_happen_and_changes_nothing() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let ns = unique("dry");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    for name in ["same", "changed", "deleted"] {
        assert!(kubectl(&["create", "configmap", name, "--from-literal=v=1", "-n", &ns]).status.success());
    }
    let backup = unique("dry");
    ark.ok(&["backup", "create", &backup, "-n", &ns]);
    assert!(kubectl(&["patch", "configmap", "changed", "-n", &ns, "-p", r#"{"data":{"v":"2"}}"#]).status.success());
    assert!(kubectl(&["delete", "configmap", "deleted", "-n", &ns]).status.success());
    let versions = |ns: &str| -> BTreeMap<String, String> {
        namespace_objects(ns)
            .into_iter()
            .map(|(gr, o)| (key(&gr, &o), o["metadata"]["resourceVersion"].as_str().unwrap().to_owned()))
            .collect()
    };
    let before = versions(&ns);

    let out = ark.run(&["restore", "create", "--from-backup", &backup, "--dry-run", "-o", "json"]);
    let report = restore_json(&out);
    assert!(out.status.success(), "{report}");
    let results = outcomes(&report);
    let cm = |name: &str| results[&format!("configmaps {ns}/{name}")].clone();
    assert_eq!(cm("same").0, "existsIdentical");
    assert_eq!(cm("changed").0, "existsDifferent");
    assert!(cm("changed").1.contains("data.v"), "{:?}", cm("changed"));
    assert_eq!(cm("deleted").0, "wouldCreate");
    assert_eq!(versions(&ns), before, "nothing changed in the cluster");
    assert!(!kubectl(&["get", "configmap", "deleted", "-n", &ns]).status.success());
    let table = ark.ok(&["restore", "create", "--from-backup", &backup, "--dry-run"]);
    assert!(
        table.contains("would create") && table.contains("exist different") && table.contains("dry run"),
        "{table}"
    );
    let listed = ark.ok(&["restore", "get", "-o", "json"]);
    assert_eq!(listed.trim(), "[]", "dry runs leave no records");

    // With --existing-resource-policy update, the changed object goes back to the backed-up state.
    let out =
        ark.run(&["restore", "create", "--from-backup", &backup, "--existing-resource-policy", "update", "-o", "json"]);
    let report = restore_json(&out);
    assert_eq!(outcomes(&report)[&format!("configmaps {ns}/changed")].0, "updated");
    let live: Value =
        serde_json::from_slice(&kubectl(&["get", "configmap", "changed", "-n", &ns, "-o", "json"]).stdout).unwrap();
    assert_eq!(live["data"]["v"], "1");
}

#[test]
fn restore_into_a_second_empty_cluster_from_the_same_bucket() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let ns = unique("migrate");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    assert!(kubectl(&["create", "configmap", "settings", "--from-literal=a=b", "-n", &ns]).status.success());
    assert!(kubectl(&["create", "deployment", "web", "--image=nginx", "-n", &ns]).status.success());
    let backup = unique("migrate");
    ark.ok(&["backup", "create", &backup, "-n", &ns]);

    let second = support::second_cluster();
    let kubeconfig = second.vars["ARK_TEST_KUBECONFIG"].clone();
    let out = ark.run(&["--kubeconfig", &kubeconfig, "restore", "create", "--from-backup", &backup, "-o", "json"]);
    let report = restore_json(&out);
    assert_eq!(report["phase"], "Completed", "{report}");
    assert_ne!(report["server"], serde_json::to_value(ark.env().vars["ARK_TEST_APISERVER"].clone() + "/").unwrap());
    let get = |args: &[&str]| {
        std::process::Command::new("kubectl").env("KUBECONFIG", &kubeconfig).args(args).output().unwrap()
    };
    let cm: Value =
        serde_json::from_slice(&get(&["get", "configmap", "settings", "-n", &ns, "-o", "json"]).stdout).unwrap();
    assert_eq!(cm["data"]["a"], "b");
    assert!(get(&["get", "deployment", "web", "-n", &ns]).status.success());
}

#[test]
fn bad_backups_and_archives_are_refused_before_touching_the_cluster() {
    let ark = Ark::new();
    let ns = unique("refuse");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    assert!(kubectl(&["create", "configmap", "c", "-n", &ns]).status.success());
    let backup = unique("victim");
    ark.ok(&["backup", "create", &backup, "-n", &ns]);
    let dir = ark.home().join(format!("data/ark/backups/backups/{backup}"));
    let archive = dir.join(format!("{backup}.tar.gz"));
    let good = std::fs::read(&archive).unwrap();
    let target = unique("target");
    let mapping = format!("{ns}:{target}");

    let out = ark.run(&["restore", "create", "--from-backup", "no-such-backup"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-backup") && stderr(&out).contains("not found"), "{}", stderr(&out));

    // Truncated archive.
    std::fs::write(&archive, &good[..good.len() / 2]).unwrap();
    let out = ark.run(&["restore", "create", "--from-backup", &backup, "--namespace-mappings", &mapping]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("corrupt or truncated"), "{}", stderr(&out));

    // An entry that climbs out of the archive.
    let mut hostile = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (path, data) in
        [("metadata/version", &b"1.1.0"[..]), ("resources/configmaps/namespaces/../../../etc/x.json", b"{}")]
    {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        hostile.append(&header, data).unwrap();
    }
    std::fs::write(&archive, hostile.into_inner().unwrap().finish().unwrap()).unwrap();
    let out = ark.run(&["restore", "create", "--from-backup", &backup, "--namespace-mappings", &mapping]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unsafe"), "{}", stderr(&out));
    assert!(!kubectl(&["get", "namespace", &target]).status.success(), "cluster untouched");

    // A backup that did not complete.
    std::fs::write(&archive, &good).unwrap();
    let record_path = dir.join("ark-backup.json");
    let mut record: Value = serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
    record["phase"] = "Failed".into();
    std::fs::write(&record_path, record.to_string()).unwrap();
    let out = ark.run(&["restore", "create", "--from-backup", &backup, "--namespace-mappings", &mapping]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--allow-partial"), "{}", stderr(&out));
    let out =
        ark.run(&["restore", "create", "--from-backup", &backup, "--namespace-mappings", &mapping, "--allow-partial"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(kubectl(&["get", "configmap", "c", "-n", &target]).status.success());

    let out = ark.run(&["restore", "create"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--from-backup"));
}

#[test]
fn a_rejected_object_fails_alone_unless_fail_fast() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let ns = unique("ports");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    assert!(kubectl(&["create", "service", "nodeport", "web", "--tcp=80:80", "-n", &ns]).status.success());
    assert!(kubectl(&["create", "configmap", "settings", "--from-literal=a=b", "-n", &ns]).status.success());
    let backup = unique("ports");
    ark.ok(&["backup", "create", &backup, "-n", &ns]);

    // Keeping the node port while the original service still holds it: the server refuses.
    let copy = unique("ports-copy");
    let mapping = format!("{ns}:{copy}");
    let out = ark.run(&[
        "restore",
        "create",
        "--from-backup",
        &backup,
        "--namespace-mappings",
        &mapping,
        "--preserve-nodeports",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3), "partially failed: {}", stderr(&out));
    let report = restore_json(&out);
    assert_eq!(report["phase"], "PartiallyFailed");
    let (outcome, message) = outcomes(&report)[&format!("services {copy}/web")].clone();
    assert_eq!(outcome, "failed");
    assert!(message.contains("already allocated"), "{message}");
    assert!(report["errors"].to_string().contains("services"), "{report}");
    assert!(kubectl(&["get", "configmap", "settings", "-n", &copy]).status.success(), "the others restored");

    let other = unique("ports-ff");
    let mapping = format!("{ns}:{other}");
    let out = ark.run(&[
        "restore",
        "create",
        "--from-backup",
        &backup,
        "--namespace-mappings",
        &mapping,
        "--preserve-nodeports",
        "--fail-fast",
        "--resource-priorities",
        "services,configmaps",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = restore_json(&out);
    assert_eq!(report["phase"], "Failed");
    assert!(report["failureReason"].as_str().unwrap().contains("--fail-fast"), "{report}");
    assert!(!kubectl(&["get", "configmap", "settings", "-n", &other]).status.success(), "stopped before config maps");
}

fn crd(plural: &str, singular: &str, kind: &str, group: &str) -> Value {
    serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": singular, "kind": kind, "listKind": format!("{kind}List")},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    })
}

#[test]
fn a_crd_that_never_becomes_established_is_named_and_its_objects_fail() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let group = format!("{}.example.com", unique("names"));
    let ns = unique("crd-names");
    kubectl_create(ark.home(), &crd("bars", "bar", "Bar", &group));
    let bars = format!("bars.{group}");
    let established = ["wait", "--for", "condition=established", "--timeout=60s"];
    assert!(kubectl(&[&established[..], &[&format!("crd/{bars}")]].concat()).status.success());
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    kubectl_create(
        ark.home(),
        &serde_json::json!({"apiVersion": format!("{group}/v1"), "kind": "Bar", "metadata": {"name": "b", "namespace": ns}}),
    );
    let backup = unique("crd-names");
    ark.ok(&["backup", "create", &backup, "-n", &ns]);

    // The CRD comes back into a cluster where its singular name is now taken: never Established.
    delete_namespaces(&[&ns]);
    assert!(kubectl(&["delete", "crd", &bars]).status.success());
    kubectl_create(ark.home(), &crd("widgets", "bar", "Widget", &group));
    let widgets = format!("widgets.{group}");
    assert!(kubectl(&[&established[..], &[&format!("crd/{widgets}")]].concat()).status.success());
    let out = ark.run(&["restore", "create", "--from-backup", &backup, "--wait-timeout", "3s", "-o", "json"]);
    let _ = kubectl(&["delete", "crd", &bars, &widgets, "--wait=false"]);
    assert_eq!(out.status.code(), Some(3), "partially failed: {}", stderr(&out));
    let report = restore_json(&out);
    let errors = report["errors"].to_string();
    assert!(errors.contains(&format!("CRD {bars} did not become Established within 3s")), "{errors}");
    assert!(errors.contains("NamesAccepted"), "the reason is given: {errors}");
    let (outcome, _) = outcomes(&report)[&format!("{bars} {ns}/b")].clone();
    assert_eq!(outcome, "failed");
}
