//! What a backup or restore covers: which namespaces, which resource types, which labels, and
//! which cluster-scoped objects come along. One type, stored in both records (flattened, so
//! their JSON keeps its shape), built once from the command line's flags, with the rules that
//! read it. Backup, restore (and whatever else compares an archive with a cluster) ask it the
//! same questions and get the same answers.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::filters::{NamespaceFilter, PatternError, ResourceFilter};
use super::labels::LabelFilter;
use super::{GroupResource, ResourceType};

/// The group-resource of CustomResourceDefinitions.
pub(crate) const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Scope {
    #[serde(default)]
    pub(crate) namespaces: NamespaceFilter,
    #[serde(default)]
    pub(crate) resources: ResourceFilter,
    /// None = auto (see `ark backup create --help`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) include_cluster_resources: Option<bool>,
    #[serde(default)]
    pub(crate) labels: LabelFilter,
}

/// Why an object is outside a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutOfScope {
    /// Its namespace (or, for a Namespace, itself) is not included.
    Namespace,
    /// A cluster-scoped object that is neither included as such nor needed by a namespaced one.
    ClusterScoped,
}

impl Scope {
    /// Checks what can be wrong in a scope built from user input: its namespace patterns.
    pub(crate) fn validate(&self) -> Result<(), PatternError> {
        self.namespaces.validate()
    }

    /// Whether every namespace is in scope.
    pub(crate) fn all_namespaces(&self) -> bool {
        self.namespaces.is_all()
    }

    pub(crate) fn takes_namespace(&self, namespace: &str) -> bool {
        self.namespaces.matches(namespace)
    }

    /// Whether every cluster-scoped object is in scope: as asked, or (auto) for a run over
    /// every namespace.
    pub(crate) fn takes_cluster_scoped(&self) -> bool {
        self.include_cluster_resources.unwrap_or_else(|| self.all_namespaces())
    }

    /// Whether cluster-scoped objects come only as far as the namespaced ones need them (auto,
    /// for a run over some namespaces): see `ClusterDependencies`.
    pub(crate) fn takes_dependencies(&self) -> bool {
        self.include_cluster_resources.is_none() && !self.all_namespaces()
    }

    /// Whether the resource filter takes the type `group_resource`; `served` is the type the
    /// cluster serves under that name, when it does, so that its singular, kind and short names
    /// count too. Names match in any case, alone or qualified with the group.
    pub(crate) fn takes_resource(&self, group_resource: &GroupResource, served: Option<&ResourceType>) -> bool {
        let named = |name: &String| group_resource.is_named(name) || served.is_some_and(|t| t.is_named(name));
        let filter = &self.resources;
        let included = filter.includes_all() || filter.include.iter().any(named);
        included && !filter.exclude.iter().any(|name| name != "*" && named(name))
    }

    /// Whether an object of `group_resource` in `namespace` (None = cluster-scoped) named `name`
    /// is in scope by where it lives. The resource filter and the labels are asked separately.
    pub(crate) fn admits(
        &self,
        group_resource: &str,
        namespace: Option<&str>,
        name: &str,
        needed: &ClusterDependencies,
    ) -> Result<(), OutOfScope> {
        let admitted = match namespace {
            Some(namespace) => self.takes_namespace(namespace),
            None if group_resource == "namespaces" => self.takes_namespace(name),
            None => {
                return (self.takes_cluster_scoped() || needed.needs(group_resource, name))
                    .then_some(())
                    .ok_or(OutOfScope::ClusterScoped);
            }
        };
        admitted.then_some(()).ok_or(OutOfScope::Namespace)
    }
}

/// The cluster-scoped objects that namespaced objects in scope need: the PersistentVolumes
/// their claims are bound to, and the CRDs of their custom resources. A run over some
/// namespaces takes these, and no other cluster-scoped object, unless told otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterDependencies {
    pub(crate) volumes: BTreeSet<String>,
    /// By the CRD's name, which is its group-resource.
    pub(crate) crds: BTreeSet<String>,
}

impl ClusterDependencies {
    /// Notes the volume a PersistentVolumeClaim is bound to (its `spec.volumeName`).
    pub(crate) fn add_claimed_volume(&mut self, volume: &str) {
        self.volumes.insert(volume.to_owned());
    }

    /// Notes a type that has objects in scope: one in a named group may be a custom resource,
    /// whose CRD is then needed.
    pub(crate) fn add_type(&mut self, group_resource: &str) {
        if group_resource.contains('.') {
            self.crds.insert(group_resource.to_owned());
        }
    }

    pub(crate) fn needs(&self, group_resource: &str, name: &str) -> bool {
        (group_resource == "persistentvolumes" && self.volumes.contains(name))
            || (group_resource == CRDS && self.crds.contains(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(json: serde_json::Value) -> Scope {
        serde_json::from_value(json).unwrap()
    }

    fn served(group: &str, resource: &str, kind: &str, short: &[&str]) -> ResourceType {
        let short_names = short.iter().map(|s| s.to_string()).collect();
        ResourceType { short_names, ..ResourceType::for_tests(group, resource, kind, true) }
    }

    #[test]
    fn the_resource_filter_knows_types_by_every_name_and_served_or_not() {
        let deployments = served("apps", "deployments", "Deployment", &["deploy"]);
        let gr = deployments.group_resource();
        let widgets = GroupResource::new("example.com", "widgets");
        let cases = [
            (serde_json::json!({}), true, true),
            (serde_json::json!({"resources": {"include": ["*"]}}), true, true),
            (serde_json::json!({"resources": {"include": ["deploy"]}}), true, false),
            (serde_json::json!({"resources": {"include": ["Deployment"]}}), true, false),
            (serde_json::json!({"resources": {"include": ["deployments.apps"]}}), true, false),
            (serde_json::json!({"resources": {"include": ["deployments.extensions"]}}), false, false),
            (serde_json::json!({"resources": {"include": ["Widgets.Example.com"]}}), false, true),
            (serde_json::json!({"resources": {"exclude": ["deploy"]}}), false, true),
            (serde_json::json!({"resources": {"exclude": ["*"]}}), true, true),
            (serde_json::json!({"resources": {"include": ["*"], "exclude": ["widgets"]}}), true, false),
        ];
        for (json, takes_deployments, takes_widgets) in cases {
            let s = scope(json.clone());
            assert_eq!(s.takes_resource(&gr, Some(&deployments)), takes_deployments, "{json} deployments");
            assert_eq!(s.takes_resource(&widgets, None), takes_widgets, "{json} widgets");
        }
        let by_kind = scope(serde_json::json!({"resources": {"include": ["deployment"]}}));
        assert!(!by_kind.takes_resource(&gr, None), "the singular is known only for a served type");
    }

    #[test]
    fn cluster_scoped_objects_come_whole_or_as_dependencies() {
        let mut needed = ClusterDependencies::default();
        needed.add_claimed_volume("pv-1");
        needed.add_type("widgets.example.com");
        needed.add_type("configmaps");
        assert_eq!(needed.crds, BTreeSet::from(["widgets.example.com".to_owned()]));

        let everything = Scope::default();
        assert!(everything.takes_cluster_scoped() && !everything.takes_dependencies());
        assert_eq!(everything.admits("clusterroles.rbac.authorization.k8s.io", None, "x", &needed), Ok(()));

        let shop = scope(serde_json::json!({"namespaces": {"include": ["shop*"]}}));
        assert!(!shop.takes_cluster_scoped() && shop.takes_dependencies());
        assert_eq!(shop.admits("configmaps", Some("shop-a"), "a", &needed), Ok(()));
        assert_eq!(shop.admits("configmaps", Some("other"), "a", &needed), Err(OutOfScope::Namespace));
        assert_eq!(shop.admits("namespaces", None, "shop-b", &needed), Ok(()));
        assert_eq!(shop.admits("namespaces", None, "other", &needed), Err(OutOfScope::Namespace));
        assert_eq!(shop.admits("persistentvolumes", None, "pv-1", &needed), Ok(()));
        assert_eq!(shop.admits("persistentvolumes", None, "pv-2", &needed), Err(OutOfScope::ClusterScoped));
        assert_eq!(shop.admits(CRDS, None, "widgets.example.com", &needed), Ok(()));

        let shop_and_cluster = Scope { include_cluster_resources: Some(true), ..shop.clone() };
        assert!(shop_and_cluster.takes_cluster_scoped() && !shop_and_cluster.takes_dependencies());
        let no_cluster = Scope { include_cluster_resources: Some(false), ..Scope::default() };
        assert!(!no_cluster.takes_cluster_scoped() && !no_cluster.takes_dependencies());
    }

    #[test]
    fn records_keep_their_json_shape_with_the_scope_flattened_into_their_specs() {
        for (name, json) in [
            ("ark-backup.json", include_str!("../../fixtures/records/ark-backup.json")),
            ("ark-restore.json", include_str!("../../fixtures/records/ark-restore.json")),
        ] {
            let again = if name == "ark-backup.json" {
                let record: super::super::BackupRecord = serde_json::from_str(json).unwrap();
                assert!(
                    record.spec.scope.takes_namespace("kube-system")
                        && !record.spec.scope.takes_namespace("kube-public")
                );
                serde_json::to_string_pretty(&record).unwrap()
            } else {
                let record: super::super::RestoreRecord = serde_json::from_str(json).unwrap();
                assert_eq!(record.spec.scope.labels.or_selectors.len(), 2);
                serde_json::to_string_pretty(&record).unwrap()
            };
            assert_eq!(again.trim_end(), json.trim_end(), "{name}");
        }
    }
}
