//! What a backup lists: the types discovery found, narrowed by the scope (its resource filter,
//! and whether cluster-scoped types come whole, only as far as namespaced objects need them, or
//! not at all), and the scope's namespaces among those the cluster has.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::events::RunReporter;
use super::listing::ItemHeader;
use super::{BackupError, BackupFailure};
use crate::cluster::ResourceCatalog;
use crate::model::{CRDS, GroupResource, ResourceType, Scope};

/// Types never backed up unless named in `--include-resources`: a restore could not use them.
const DEFAULT_EXCLUDED: &[&str] = &[
    "events",
    "events.events.k8s.io",
    "nodes",
    "leases.coordination.k8s.io",
    "componentstatuses",
    "bindings",
    "certificatesigningrequests.certificates.k8s.io",
    "nodes.metrics.k8s.io",
    "pods.metrics.k8s.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
];

/// The types to list, split by how they are listed.
#[derive(Debug)]
pub(super) struct TypeSelection {
    pub(super) namespaced: Vec<Arc<ResourceType>>,
    /// Cluster-scoped types backed up whole.
    pub(super) cluster: Vec<Arc<ResourceType>>,
    /// Whether cluster-scoped objects are included only as far as namespaced ones need them.
    pub(super) cluster_dependencies: bool,
    pub(super) namespaces: Option<Arc<ResourceType>>,
    pub(super) persistent_volumes: Option<Arc<ResourceType>>,
    pub(super) crds: Option<Arc<ResourceType>>,
}

impl TypeSelection {
    /// The pod type, when the backup takes pods (their hooks run only then).
    pub(super) fn pods(&self) -> Option<&ResourceType> {
        self.namespaced.iter().find(|t| t.group.is_empty() && t.resource == "pods").map(Arc::as_ref)
    }

    pub(super) fn types(&self) -> usize {
        self.namespaced.len() + self.cluster.len()
    }
}

/// The types of `catalog` that the backup lists. A name in the resource filter that the
/// server does not serve is an error: it is most likely a typo.
pub(super) fn select_types(catalog: &ResourceCatalog, scope: &Scope) -> Result<TypeSelection, BackupError> {
    let filter = &scope.resources;
    for name in filter.include.iter().chain(&filter.exclude) {
        if name != "*" && catalog.find(name).is_none() {
            return Err(BackupError::UnknownResource(name.clone()));
        }
    }
    let wanted = |t: &ResourceType| {
        let gr = t.group_resource();
        let default_excluded = filter.includes_all() && DEFAULT_EXCLUDED.contains(&gr.to_string().as_str());
        !default_excluded && scope.takes_resource(&gr, Some(t))
    };
    let find = |gr: GroupResource| {
        catalog.types.iter().find(|t| t.group_resource() == gr).filter(|t| wanted(t)).cloned().map(Arc::new)
    };
    let mut selection = TypeSelection {
        namespaced: Vec::new(),
        cluster: Vec::new(),
        cluster_dependencies: scope.takes_dependencies(),
        namespaces: find(GroupResource::new("", "namespaces")),
        persistent_volumes: find(GroupResource::new("", "persistentvolumes")),
        crds: find(GroupResource::parse(CRDS)),
    };
    for t in catalog.types.iter().filter(|t| wanted(t)) {
        if t.namespaced {
            selection.namespaced.push(Arc::new(t.clone()));
        } else if scope.takes_cluster_scoped() && !(t.group.is_empty() && t.resource == "namespaces") {
            selection.cluster.push(Arc::new(t.clone()));
        }
    }
    Ok(selection)
}

/// The namespaces the backup covers, from the LIST that fixed its revision.
pub(super) struct ScopedNamespaces {
    /// The Namespace objects in scope, as listed.
    pub(super) objects: Vec<(ItemHeader, Box<RawValue>)>,
    pub(super) names: BTreeSet<String>,
}

/// The scope's namespaces among `listed`; an include pattern that matches none of the cluster's
/// namespaces is a warning (a typo, or a namespace not made yet).
pub(super) fn scoped_namespaces(
    listed: Vec<Box<RawValue>>,
    scope: &Scope,
    reporter: &mut RunReporter<'_>,
) -> Result<ScopedNamespaces, BackupFailure> {
    let mut all = BTreeSet::new();
    let mut objects = Vec::new();
    for item in listed {
        let header: ItemHeader = serde_json::from_str(item.get()).map_err(BackupFailure::DecodeNamespace)?;
        all.insert(header.metadata.name.clone());
        if scope.takes_namespace(&header.metadata.name) {
            objects.push((header, item));
        }
    }
    for pattern in scope.namespaces.unmatched_includes(&all) {
        reporter.warn(if pattern.is_glob() {
            format!("namespace pattern {pattern} matches no namespace")
        } else {
            format!("namespace {pattern} does not exist")
        });
    }
    let names = objects.iter().map(|(header, _)| header.metadata.name.clone()).collect();
    Ok(ScopedNamespaces { objects, names })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ResourceCatalog {
        let t = ResourceType::for_tests;
        let types = vec![
            t("", "configmaps", "ConfigMap", true),
            t("", "events", "Event", true),
            t("", "pods", "Pod", true),
            t("apps", "deployments", "Deployment", true),
            t("example.com", "widgets", "Widget", true),
            t("", "namespaces", "Namespace", false),
            t("", "nodes", "Node", false),
            t("", "persistentvolumes", "PersistentVolume", false),
            t("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", false),
            t("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", false),
        ];
        ResourceCatalog { types, ..Default::default() }
    }

    fn names(types: &[Arc<ResourceType>]) -> Vec<String> {
        types.iter().map(|t| t.group_resource().to_string()).collect()
    }

    fn select(scope: serde_json::Value) -> TypeSelection {
        select_types(&catalog(), &serde_json::from_value(scope).unwrap()).unwrap()
    }

    #[test]
    fn a_whole_cluster_backup_takes_every_type_but_the_default_exclusions() {
        let all = select(serde_json::json!({}));
        assert_eq!(names(&all.namespaced), ["configmaps", "pods", "deployments.apps", "widgets.example.com"]);
        assert_eq!(
            names(&all.cluster),
            [
                "persistentvolumes",
                "customresourcedefinitions.apiextensions.k8s.io",
                "clusterroles.rbac.authorization.k8s.io"
            ]
        );
        assert!(!all.cluster_dependencies && all.namespaces.is_some() && all.pods().is_some());
        let with_events = select(serde_json::json!({"resources": {"include": ["events"]}}));
        assert_eq!(names(&with_events.namespaced), ["events"], "named, a default exclusion is taken");
        let starred = select(serde_json::json!({"resources": {"include": ["*", "events"]}}));
        assert!(!names(&starred.namespaced).contains(&"events".to_owned()), "`*` keeps the defaults out");
    }

    #[test]
    fn a_namespaced_backup_takes_cluster_scoped_objects_only_as_dependencies() {
        let shop = select(serde_json::json!({"namespaces": {"include": ["shop"]}}));
        assert!(shop.cluster.is_empty() && shop.cluster_dependencies);
        assert!(shop.persistent_volumes.is_some() && shop.crds.is_some());
        let with_cluster =
            select(serde_json::json!({"namespaces": {"include": ["shop"]}, "includeClusterResources": true}));
        assert_eq!(with_cluster.cluster.len(), 3);
        assert!(!with_cluster.cluster_dependencies);
        let without = select(serde_json::json!({"includeClusterResources": false, "resources": {"exclude": ["pods"]}}));
        assert!(without.cluster.is_empty() && !without.cluster_dependencies && without.pods().is_none());
    }

    #[test]
    fn a_resource_the_server_does_not_serve_is_refused() {
        let scope = serde_json::from_value(serde_json::json!({"resources": {"exclude": ["gizmos"]}})).unwrap();
        let error = select_types(&catalog(), &scope).unwrap_err().to_string();
        assert!(error.contains("\"gizmos\""), "{error}");
    }
}
