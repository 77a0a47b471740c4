//! End-to-end: backups of a cluster that is partly broken or partly forbidden. Its own test
//! binary, because a broken API group affects every backup taken while it exists.

mod support;

use serde_json::Value;
use support::{Ark, kubectl, stderr, stdout, unique};

#[test]
fn broken_api_group_makes_the_backup_partially_failed_and_named() {
    let ark = Ark::new();
    let ns = unique("healthy");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    assert!(kubectl(&["create", "configmap", "c", "-n", &ns]).status.success());
    let group = format!("{}.example.com", unique("broken"));
    let apiservice = format!(
        r#"{{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{{"name":"v1beta1.{group}"}},
"spec":{{"group":"{group}","version":"v1beta1","groupPriorityMinimum":100,"versionPriority":100,"insecureSkipTLSVerify":true,
"service":{{"name":"missing","namespace":"default","port":443}}}}}}"#
    );
    let file = ark.home().join("apiservice.json");
    std::fs::write(&file, apiservice).unwrap();
    assert!(kubectl(&["create", "-f", file.to_str().unwrap()]).status.success());
    // Wait until the aggregator has noticed that the service is missing.
    let path = format!("/apis/{group}/v1beta1");
    let mut unavailable = false;
    for _ in 0..100 {
        let out = kubectl(&["get", "--raw", &path]);
        if stderr(&out).contains("ServiceUnavailable") || stderr(&out).contains("503") {
            unavailable = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(unavailable, "the API group never became unavailable");

    let name = unique("degraded");
    let out = ark.run(&["backup", "create", &name, "-n", &ns, "-o", "json"]);
    let _ = kubectl(&["delete", "apiservice", &format!("v1beta1.{group}")]);
    assert_eq!(out.status.code(), Some(3), "partially failed: {}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["phase"], "PartiallyFailed");
    let errors = record["errors"].to_string();
    assert!(errors.contains(&group), "{errors}");
    assert_eq!(record["resourceCounts"]["configmaps"], 1, "everything else backed up");
    assert!(stderr(&out).contains(&group), "warned on stderr: {}", stderr(&out));
}

#[test]
fn types_rbac_forbids_are_named_and_the_rest_is_backed_up() {
    let ark = Ark::new();
    let ns = unique("rbac");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    assert!(kubectl(&["create", "configmap", "visible", "-n", &ns]).status.success());
    assert!(kubectl(&["create", "secret", "generic", "hidden", "-n", &ns, "--from-literal=a=b"]).status.success());
    // Without permission to list namespaces, the backup is refused before anything is written.
    let restricted = ark.env().vars["ARK_TEST_KUBECONFIG_RESTRICTED"].clone();
    let out = ark.run(&["--kubeconfig", &restricted, "backup", "create", "refused", "-n", &ns]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("list namespaces") && stderr(&out).contains("forbidden"), "{}", stderr(&out));
    assert!(ark.ok(&["backup", "get"]).contains("No backups"), "nothing written");

    // The restricted user may read namespaces and everything in this namespace but secrets.
    let role = unique("ark-reader");
    let rules = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{{"name":"{role}"}},"rules":[{{"apiGroups":[""],"resources":["namespaces"],"verbs":["get","list"]}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{{"name":"{role}"}},"roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"{role}"}},"subjects":[{{"kind":"Group","name":"ark-restricted","apiGroup":"rbac.authorization.k8s.io"}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{{"name":"reader","namespace":"{ns}"}},"rules":[{{"apiGroups":["*"],"resources":["configmaps","serviceaccounts","services","pods","deployments","replicasets","statefulsets","daemonsets","jobs","cronjobs","roles","rolebindings","persistentvolumeclaims","endpoints","limitranges","resourcequotas","podtemplates","replicationcontrollers","ingresses","networkpolicies","poddisruptionbudgets","horizontalpodautoscalers","controllerrevisions","endpointslices","leases","events"],"verbs":["get","list"]}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{{"name":"reader","namespace":"{ns}"}},"roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"reader"}},"subjects":[{{"kind":"Group","name":"ark-restricted","apiGroup":"rbac.authorization.k8s.io"}}]}}
]}}"#
    );
    let file = ark.home().join("rbac.json");
    std::fs::write(&file, rules).unwrap();
    let out = kubectl(&["create", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let name = unique("forbidden");
    let out = ark.run(&["--kubeconfig", &restricted, "backup", "create", &name, "-n", &ns, "-o", "json"]);
    let _ = kubectl(&["delete", "clusterrole,clusterrolebinding", &role]);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["phase"], "PartiallyFailed");
    let errors = record["errors"].to_string();
    assert!(errors.contains("list secrets") && errors.contains("forbidden"), "{errors}");
    assert_eq!(record["resourceCounts"]["configmaps"], 1);
    assert!(record["resourceCounts"].get("secrets").is_none());
}
