//! The rules that turn a backed-up object into one the apiserver will create again: what is
//! never restored (and why), what is cleaned off, how namespaces are remapped, the labels
//! every restored object carries, the order types are restored in, and when an object already
//! in the cluster is the same as the backed-up one. Pure functions over objects as the API
//! returns them; they run at restore time so they can improve without new backups.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::model::short_hash;

/// Restore order (DESIGN.md): what others depend on comes first. Types not listed follow, in
/// alphabetical order of their group-resource.
pub(crate) const DEFAULT_PRIORITIES: &[&str] = &[
    "customresourcedefinitions.apiextensions.k8s.io",
    "namespaces",
    "storageclasses.storage.k8s.io",
    "persistentvolumes",
    "persistentvolumeclaims",
    "clusterroles.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "serviceaccounts",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "secrets",
    "configmaps",
    "limitranges",
    "resourcequotas",
    "priorityclasses.scheduling.k8s.io",
    "services",
    "endpoints",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "cronjobs.batch",
    "jobs.batch",
    "pods",
];

/// Where `group_resource` comes in the restore order given `priorities`.
pub(crate) fn priority(group_resource: &str, priorities: &[String]) -> usize {
    priorities.iter().position(|p| p == group_resource).unwrap_or(priorities.len())
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CleanOptions {
    pub(crate) preserve_node_ports: bool,
    /// group-resources whose status is restored too.
    pub(crate) restore_status: Vec<String>,
}

/// Why an object from the backup is not restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SkipReason {
    NeverRestored,
    ServiceAccountToken,
    RootCaConfigMap,
    ManagedByController(String),
    Completed,
    MirrorPod,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NeverRestored => f.write_str("this type is never restored"),
            Self::ServiceAccountToken => f.write_str("service account token secrets are recreated by the cluster"),
            Self::RootCaConfigMap => f.write_str("kube-root-ca.crt is recreated by the cluster"),
            Self::ManagedByController(owner) => write!(f, "recreated by its controller ({owner})"),
            Self::Completed => f.write_str("completed; it would not run again"),
            Self::MirrorPod => f.write_str("mirror pods belong to a kubelet"),
        }
    }
}

const NEVER_RESTORED: &[&str] = &[
    "nodes",
    "events",
    "events.events.k8s.io",
    "leases.coordination.k8s.io",
    "componentstatuses",
    "certificatesigningrequests.certificates.k8s.io",
];

fn controller_owner(obj: &Value) -> Option<&str> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .and_then(|r| r["kind"].as_str())
}

pub(crate) fn skip_reason(group_resource: &str, obj: &Value) -> Option<SkipReason> {
    if NEVER_RESTORED.contains(&group_resource) {
        return Some(SkipReason::NeverRestored);
    }
    let meta = &obj["metadata"];
    let owner = controller_owner(obj);
    match group_resource {
        "secrets" if obj["type"] == "kubernetes.io/service-account-token" => Some(SkipReason::ServiceAccountToken),
        "configmaps" if meta["name"] == "kube-root-ca.crt" => Some(SkipReason::RootCaConfigMap),
        "endpointslices.discovery.k8s.io" => {
            if meta["labels"]["endpointslice.kubernetes.io/managed-by"].is_string() || owner.is_some() {
                Some(SkipReason::ManagedByController("endpoint slice controller".into()))
            } else {
                None
            }
        }
        "endpoints" => {
            if meta["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"].is_string() || owner.is_some() {
                Some(SkipReason::ManagedByController("endpoints controller".into()))
            } else {
                None
            }
        }
        "pods" => {
            if meta["annotations"]["kubernetes.io/config.mirror"].is_string() {
                Some(SkipReason::MirrorPod)
            } else if let Some(owner) = owner {
                Some(SkipReason::ManagedByController(owner.to_owned()))
            } else if matches!(obj["status"]["phase"].as_str(), Some("Succeeded" | "Failed")) {
                Some(SkipReason::Completed)
            } else {
                None
            }
        }
        "replicasets.apps" | "controllerrevisions.apps" | "jobs.batch" if owner.is_some() => {
            Some(SkipReason::ManagedByController(owner.unwrap_or_default().to_owned()))
        }
        "jobs.batch" if job_finished(obj) => Some(SkipReason::Completed),
        _ => None,
    }
}

fn job_finished(job: &Value) -> bool {
    let finished_condition = job["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter().any(|c| matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True")
    });
    let completions = job["spec"]["completions"].as_u64();
    let succeeded = job["status"]["succeeded"].as_u64().unwrap_or(0);
    finished_condition || completions.is_some_and(|c| succeeded >= c)
}

const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "selfLink",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "ownerReferences",
];

/// Cleans `obj` in place so it can be created again.
pub(crate) fn clean(group_resource: &str, obj: &mut Value, options: &CleanOptions) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_METADATA {
            meta.remove(*field);
        }
    }
    if !options.restore_status.iter().any(|r| r == group_resource)
        && let Some(map) = obj.as_object_mut()
    {
        map.remove("status");
    }
    match group_resource {
        "services" => clean_service(obj, options.preserve_node_ports),
        "pods" => clean_pod(obj),
        "jobs.batch" => clean_job(obj),
        "persistentvolumeclaims" => remove_annotations(
            obj,
            &[
                "pv.kubernetes.io/bind-completed",
                "pv.kubernetes.io/bound-by-controller",
                "volume.kubernetes.io/selected-node",
            ],
        ),
        "persistentvolumes" => {
            remove_annotations(obj, &["pv.kubernetes.io/bound-by-controller"]);
            if let Some(claim) = obj["spec"].get_mut("claimRef").and_then(Value::as_object_mut) {
                claim.remove("uid");
                claim.remove("resourceVersion");
            }
        }
        _ => {}
    }
}

fn remove_annotations(obj: &mut Value, keys: &[&str]) {
    if let Some(annotations) = obj["metadata"].get_mut("annotations").and_then(Value::as_object_mut) {
        for key in keys {
            annotations.remove(*key);
        }
    }
}

/// Node ports the user wrote in the manifest (per kubectl's last-applied annotation), as
/// (port name, port number) keys; only those survive a restore without --preserve-nodeports.
fn explicit_node_ports(service: &Value) -> (BTreeSet<(String, u64)>, bool) {
    let Some(applied) = service["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].as_str()
    else {
        return (BTreeSet::new(), false);
    };
    let Ok(applied) = serde_json::from_str::<Value>(applied) else { return (BTreeSet::new(), false) };
    let ports = applied["spec"]["ports"]
        .as_array()
        .map(|ports| {
            ports
                .iter()
                .filter(|p| p["nodePort"].is_u64())
                .map(|p| (p["name"].as_str().unwrap_or_default().to_owned(), p["port"].as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    (ports, applied["spec"]["healthCheckNodePort"].is_u64())
}

fn clean_service(service: &mut Value, preserve_node_ports: bool) {
    let (explicit, explicit_health) = explicit_node_ports(service);
    let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    if preserve_node_ports {
        return;
    }
    if !explicit_health {
        spec.remove("healthCheckNodePort");
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            let key = (port["name"].as_str().unwrap_or_default().to_owned(), port["port"].as_u64().unwrap_or(0));
            let named_match = !key.0.is_empty() && explicit.iter().any(|(name, _)| *name == key.0);
            if !(named_match || explicit.contains(&key))
                && let Some(port) = port.as_object_mut()
            {
                port.remove("nodePort");
            }
        }
    }
}

fn clean_pod(pod: &mut Value) {
    let service_account = pod["spec"]["serviceAccountName"].as_str().unwrap_or("default").to_owned();
    let token_prefix = format!("{service_account}-token-");
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return };
    spec.remove("nodeName");
    spec.remove("priority");
    let mut dropped = BTreeSet::new();
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        volumes.retain(|v| {
            let name = v["name"].as_str().unwrap_or_default();
            let legacy_token = v["secret"]["secretName"].as_str().is_some_and(|s| s.starts_with(&token_prefix));
            let projected_token = name.starts_with("kube-api-access-") && v["projected"].is_object();
            if legacy_token || projected_token {
                dropped.insert(name.to_owned());
                return false;
            }
            true
        });
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for container in containers {
                if let Some(mounts) = container.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                    mounts.retain(|m| !dropped.contains(m["name"].as_str().unwrap_or_default()));
                }
            }
        }
    }
}

const JOB_CONTROLLER_LABELS: &[&str] = &["controller-uid", "batch.kubernetes.io/controller-uid"];

fn clean_job(job: &mut Value) {
    let Some(spec) = job.get_mut("spec").and_then(Value::as_object_mut) else { return };
    let mut selector_empty = false;
    if let Some(labels) = spec.get_mut("selector").and_then(|s| s.get_mut("matchLabels")).and_then(Value::as_object_mut)
    {
        for label in JOB_CONTROLLER_LABELS {
            labels.remove(*label);
        }
        selector_empty = labels.is_empty();
    }
    if selector_empty && spec["selector"].get("matchExpressions").is_none() {
        // Let the server generate a selector for the new uid, as it did for the original.
        spec.remove("selector");
        spec.remove("manualSelector");
    }
    if let Some(labels) = spec
        .get_mut("template")
        .and_then(|t| t.get_mut("metadata"))
        .and_then(|m| m.get_mut("labels"))
        .and_then(Value::as_object_mut)
    {
        for label in JOB_CONTROLLER_LABELS {
            labels.remove(*label);
        }
    }
}

/// Moves an object to its mapped namespace and rewrites what names the namespace: Namespace
/// objects themselves, RoleBinding and ClusterRoleBinding subjects, PV claimRefs.
pub(crate) fn remap_namespaces(group_resource: &str, obj: &mut Value, mappings: &BTreeMap<String, String>) {
    if mappings.is_empty() {
        return;
    }
    let mapped = |ns: &str| mappings.get(ns).cloned();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let field = if group_resource == "namespaces" { "name" } else { "namespace" };
        if let Some(new) = meta.get(field).and_then(Value::as_str).and_then(mapped) {
            meta.insert(field.to_owned(), Value::String(new));
        }
    }
    match group_resource {
        "rolebindings.rbac.authorization.k8s.io" | "clusterrolebindings.rbac.authorization.k8s.io" => {
            if let Some(subjects) = obj.get_mut("subjects").and_then(Value::as_array_mut) {
                for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(new) = subject.get("namespace").and_then(Value::as_str).and_then(mapped) {
                        subject.insert("namespace".into(), Value::String(new));
                    }
                }
            }
        }
        "persistentvolumes" => {
            if let Some(claim) = obj["spec"].get_mut("claimRef").and_then(Value::as_object_mut)
                && let Some(new) = claim.get("namespace").and_then(Value::as_str).and_then(mapped)
            {
                claim.insert("namespace".into(), Value::String(new));
            }
        }
        _ => {}
    }
}

/// Labels every restored object with the restore and backup it came from.
pub(crate) fn add_restore_labels(obj: &mut Value, restore: &str, backup: &str) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    let labels = meta.entry("labels").or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    if let Some(labels) = labels.as_object_mut() {
        labels.insert("ark-restore".into(), Value::String(label_value(restore)));
        labels.insert("ark-backup".into(), Value::String(label_value(backup)));
    }
}

/// A valid label value for `value`: itself when it fits in 63 characters, else its first 57
/// characters...  of the whole, so that two long names stay distinct and the
/// same name always gives the same value.
pub(crate) fn label_value(value: &str) -> String {
    if value.len() <= 63 {
        return value.to_owned();
    }
    let head: String = value.chars().take(56).collect();
    let head = head.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!("{head}-{}", short_hash(value))
}

/// What "identical" means for an existing object: the same spec, data and user metadata once
/// both sides are cleaned by the same rules (server-set fields and ark's own labels aside).
pub(crate) fn comparable(group_resource: &str, object: &Value) -> Value {
    let mut object = object.clone();
    clean(group_resource, &mut object, &CleanOptions::default());
    if group_resource == "serviceaccounts"
        && let Some(map) = object.as_object_mut()
    {
        // Token secrets are generated per cluster by the service account controller.
        map.remove("secrets");
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
            labels.remove("ark-restore");
            labels.remove("ark-backup");
        }
        meta.retain(|key, value| {
            !(matches!(key.as_str(), "labels" | "annotations") && value.as_object().is_some_and(|m| m.is_empty()))
        });
    }
    object
}

/// The JSON paths at which `a` and `b` differ (`spec.replicas`, `data.key`), depth first.
pub(crate) fn diff_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into(a, b, "", &mut out);
    out
}

fn diff_into(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    let child = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                diff_into(x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null), &child(key), out);
            }
        }
        _ if a != b => out.push(if at.is_empty() { "(whole object)".to_owned() } else { at.to_owned() }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cleaned(gr: &str, mut obj: Value) -> Value {
        clean(gr, &mut obj, &CleanOptions::default());
        obj
    }

    #[test]
    fn server_metadata_and_status_are_dropped_unless_status_is_asked_for() {
        let obj = json!({"metadata": {"name": "a", "uid": "u", "resourceVersion": "1", "creationTimestamp": "t",
            "managedFields": [], "ownerReferences": [{"kind": "X"}], "generation": 3, "labels": {"k": "v"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}, "status": {"x": 1}});
        let out = cleaned("configmaps", obj.clone());
        assert_eq!(
            out,
            json!({"metadata": {"name": "a", "labels": {"k": "v"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}})
        );
        let mut kept = obj;
        clean(
            "configmaps",
            &mut kept,
            &CleanOptions { restore_status: vec!["configmaps".into()], ..Default::default() },
        );
        assert_eq!(kept["status"], json!({"x": 1}));
    }

    #[test]
    fn service_cluster_ip_dropped_unless_headless() {
        let svc = json!({"spec": {"clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5"], "ports": [{"port": 80}]}});
        let out = cleaned("services", svc);
        assert!(out["spec"].get("clusterIP").is_none() && out["spec"].get("clusterIPs").is_none());
        let headless = json!({"spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(cleaned("services", headless)["spec"]["clusterIP"], "None");
    }

    #[test]
    fn node_ports_kept_only_when_explicit_or_preserved() {
        let applied = json!({"spec": {"ports": [{"name": "http", "port": 80, "nodePort": 30080}]}}).to_string();
        let svc = json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
            "spec": {"type": "NodePort", "healthCheckNodePort": 31000, "ports": [
                {"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443, "nodePort": 30443}]}});
        let out = cleaned("services", svc.clone());
        assert_eq!(out["spec"]["ports"][0]["nodePort"], 30080, "explicit port kept");
        assert!(out["spec"]["ports"][1].get("nodePort").is_none(), "assigned port dropped");
        assert!(out["spec"].get("healthCheckNodePort").is_none());
        let mut preserved = svc;
        clean("services", &mut preserved, &CleanOptions { preserve_node_ports: true, ..Default::default() });
        assert_eq!(preserved["spec"]["ports"][1]["nodePort"], 30443);
        assert_eq!(preserved["spec"]["healthCheckNodePort"], 31000);
    }

    #[test]
    fn pod_loses_node_priority_and_token_volumes() {
        let pod = json!({"spec": {"nodeName": "n1", "priority": 0, "priorityClassName": "p", "serviceAccountName": "app",
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "app-token-abcde", "secret": {"secretName": "app-token-abcde"}},
                        {"name": "kube-api-access-x1", "projected": {"sources": []}}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "data"}, {"name": "app-token-abcde"}, {"name": "kube-api-access-x1"}]}],
            "initContainers": [{"name": "i", "volumeMounts": [{"name": "app-token-abcde"}]}]}});
        let out = cleaned("pods", pod);
        assert!(out["spec"].get("nodeName").is_none() && out["spec"].get("priority").is_none());
        assert_eq!(out["spec"]["priorityClassName"], "p");
        assert_eq!(out["spec"]["volumes"], json!([{"name": "data", "emptyDir": {}}]));
        assert_eq!(out["spec"]["containers"][0]["volumeMounts"], json!([{"name": "data"}]));
        assert_eq!(out["spec"]["initContainers"][0]["volumeMounts"], json!([]));
    }

    #[test]
    fn job_controller_uid_labels_removed_from_selector_and_template() {
        let job = json!({"spec": {"selector": {"matchLabels": {"controller-uid": "u"}},
            "template": {"metadata": {"labels": {"controller-uid": "u", "job-name": "j", "batch.kubernetes.io/controller-uid": "u"}}}}});
        let out = cleaned("jobs.batch", job);
        assert!(out["spec"].get("selector").is_none(), "empty selector left to the server");
        assert_eq!(out["spec"]["template"]["metadata"]["labels"], json!({"job-name": "j"}));
        let manual = json!({"spec": {"selector": {"matchLabels": {"controller-uid": "u", "app": "x"}}}});
        assert_eq!(cleaned("jobs.batch", manual)["spec"]["selector"]["matchLabels"], json!({"app": "x"}));
    }

    #[test]
    fn pvc_and_pv_binding_details_dropped() {
        let pvc = json!({"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes", "keep": "1"}}, "spec": {"volumeName": "pv1"}});
        let out = cleaned("persistentvolumeclaims", pvc);
        assert_eq!(out["metadata"]["annotations"], json!({"keep": "1"}));
        assert_eq!(out["spec"]["volumeName"], "pv1");
        let pv = json!({"spec": {"claimRef": {"name": "c", "namespace": "n", "uid": "u", "resourceVersion": "1"}}});
        assert_eq!(cleaned("persistentvolumes", pv)["spec"]["claimRef"], json!({"name": "c", "namespace": "n"}));
    }

    #[test]
    fn skip_reasons() {
        let owned = |kind: &str| json!({"metadata": {"ownerReferences": [{"kind": kind, "controller": true}]}});
        let cases: Vec<(&str, Value, bool)> = vec![
            ("events", json!({}), true),
            ("nodes", json!({}), true),
            ("leases.coordination.k8s.io", json!({}), true),
            ("secrets", json!({"type": "kubernetes.io/service-account-token"}), true),
            ("secrets", json!({"type": "Opaque"}), false),
            ("configmaps", json!({"metadata": {"name": "kube-root-ca.crt"}}), true),
            ("configmaps", json!({"metadata": {"name": "app"}}), false),
            ("pods", owned("ReplicaSet"), true),
            ("pods", json!({"status": {"phase": "Succeeded"}}), true),
            ("pods", json!({"status": {"phase": "Running"}}), false),
            ("pods", json!({"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}}), true),
            ("replicasets.apps", owned("Deployment"), true),
            ("replicasets.apps", json!({}), false),
            ("controllerrevisions.apps", owned("StatefulSet"), true),
            ("jobs.batch", owned("CronJob"), true),
            ("jobs.batch", json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}), true),
            ("jobs.batch", json!({"spec": {"completions": 1}, "status": {"succeeded": 1}}), true),
            ("jobs.batch", json!({"spec": {"completions": 2}, "status": {"succeeded": 1}}), false),
            (
                "endpoints",
                json!({"metadata": {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "t"}}}),
                true,
            ),
            ("endpoints", json!({"metadata": {"name": "manual"}}), false),
            (
                "endpointslices.discovery.k8s.io",
                json!({"metadata": {"labels": {"endpointslice.kubernetes.io/managed-by": "x"}}}),
                true,
            ),
            ("persistentvolumeclaims", owned("StatefulSet"), false),
        ];
        for (gr, obj, skipped) in cases {
            assert_eq!(skip_reason(gr, &obj).is_some(), skipped, "{gr} {obj}");
        }
        assert!(skip_reason("pods", &owned("ReplicaSet")).unwrap().to_string().contains("ReplicaSet"));
    }

    #[test]
    fn remapping_moves_objects_and_rewrites_references() {
        let mappings = BTreeMap::from([("shop".to_owned(), "shop-copy".to_owned())]);
        let mut cm = json!({"metadata": {"name": "a", "namespace": "shop"}});
        remap_namespaces("configmaps", &mut cm, &mappings);
        assert_eq!(cm["metadata"]["namespace"], "shop-copy");
        let mut other = json!({"metadata": {"name": "a", "namespace": "other"}});
        remap_namespaces("configmaps", &mut other, &mappings);
        assert_eq!(other["metadata"]["namespace"], "other");
        let mut ns = json!({"metadata": {"name": "shop"}});
        remap_namespaces("namespaces", &mut ns, &mappings);
        assert_eq!(ns["metadata"]["name"], "shop-copy");
        let mut binding = json!({"metadata": {"name": "b", "namespace": "shop"}, "subjects": [
            {"kind": "ServiceAccount", "name": "sa", "namespace": "shop"}, {"kind": "User", "name": "u"}]});
        remap_namespaces("rolebindings.rbac.authorization.k8s.io", &mut binding, &mappings);
        assert_eq!(binding["subjects"][0]["namespace"], "shop-copy");
        assert!(binding["subjects"][1].get("namespace").is_none());
        let mut crb = json!({"metadata": {"name": "b"}, "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "shop"}]});
        remap_namespaces("clusterrolebindings.rbac.authorization.k8s.io", &mut crb, &mappings);
        assert_eq!(crb["subjects"][0]["namespace"], "shop-copy");
        assert!(crb["metadata"].get("namespace").is_none());
        let mut pv = json!({"metadata": {"name": "pv"}, "spec": {"claimRef": {"namespace": "shop", "name": "c"}}});
        remap_namespaces("persistentvolumes", &mut pv, &mappings);
        assert_eq!(pv["spec"]["claimRef"]["namespace"], "shop-copy");
    }

    #[test]
    fn restore_labels_are_added_and_long_values_shortened_stably() {
        let mut obj = json!({"metadata": {"name": "a"}});
        add_restore_labels(&mut obj, "r1", "b1");
        assert_eq!(obj["metadata"]["labels"], json!({"ark-restore": "r1", "ark-backup": "b1"}));
        let long = format!("{}-20261124020000", "nightly-backup-of-the-production-cluster-in-eu-west");
        let value = label_value(&long);
        assert!(value.len() <= 63, "{value}");
        assert_eq!(value, label_value(&long), "deterministic");
        assert_ne!(value, label_value(&format!("{long}1")), "distinct");
        assert_eq!(value, "nightly-backup-of-the-production-cluster-in-eu-west-2026-9f495e");
        assert!(value.chars().last().is_some_and(|c| c.is_ascii_alphanumeric()));
        assert_eq!(label_value("short"), "short");
    }

    #[test]
    fn priorities_put_crds_and_namespaces_first() {
        let p: Vec<String> = DEFAULT_PRIORITIES.iter().map(|s| s.to_string()).collect();
        assert!(priority("customresourcedefinitions.apiextensions.k8s.io", &p) < priority("namespaces", &p));
        assert!(priority("namespaces", &p) < priority("configmaps", &p));
        assert!(priority("configmaps", &p) < priority("deployments.apps", &p));
        assert_eq!(priority("widgets.example.com", &p), p.len());
    }

    #[test]
    fn comparison_ignores_server_fields_and_ark_labels() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "1", "resourceVersion": "9", "labels": {"ark-restore": "r", "ark-backup": "b"}},
            "data": {"k": "v"}});
        let backed_up = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "0", "resourceVersion": "3"}, "data": {"k": "v"}});
        assert_eq!(comparable("configmaps", &live), comparable("configmaps", &backed_up));
        let changed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "w", "x": 1}});
        let differences = diff_paths(&comparable("configmaps", &changed), &comparable("configmaps", &live));
        assert_eq!(differences, ["data.k", "data.x"]);
        assert_eq!(diff_paths(&json!(1), &json!(2)), ["(whole object)"]);
    }
}
