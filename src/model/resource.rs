//! Resource identities: a group/resource pair (`deployments.apps`), and everything discovery
//! tells about one served resource type.

use std::fmt;

/// `deployments.apps`, or `configmaps` for the core group: the name archives and filters use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct GroupResource {
    pub(crate) group: String,
    pub(crate) resource: String,
}

impl GroupResource {
    pub(crate) fn new(group: &str, resource: &str) -> Self {
        Self { group: group.to_owned(), resource: resource.to_owned() }
    }

    /// Parses `deployments.apps` / `configmaps` (the first dot separates resource from group).
    pub(crate) fn parse(s: &str) -> Self {
        match s.split_once('.') {
            Some((resource, group)) => Self::new(group, resource),
            None => Self::new("", s),
        }
    }

    /// Whether `name` (as a user types it, in any case) names this type by its plural, alone or
    /// qualified with the group (`deployments`, `deployments.apps`).
    pub(crate) fn is_named(&self, name: &str) -> bool {
        named_in_group(name, &self.group).is_some_and(|base| base == self.resource)
    }
}

/// `name` lowercased without its group qualifier, when it names a type of `group` (or no group).
fn named_in_group(name: &str, group: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    match name.split_once('.') {
        Some((base, qualifier)) => (qualifier == group).then(|| base.to_owned()),
        None => Some(name),
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() { f.write_str(&self.resource) } else { write!(f, "{}.{}", self.resource, self.group) }
    }
}

/// One resource type the server serves, at its preferred version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceType {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) resource: String,
    pub(crate) kind: String,
    pub(crate) namespaced: bool,
    #[serde(default)]
    pub(crate) verbs: Vec<String>,
    #[serde(default)]
    pub(crate) short_names: Vec<String>,
    #[serde(default)]
    pub(crate) singular: String,
}

impl ResourceType {
    pub(crate) fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.group, &self.resource)
    }

    /// `apps/v1`, or `v1` for the core group.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The collection's URL path, in `namespace` or across all namespaces.
    pub(crate) fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.resource),
            _ => format!("{base}/{}", self.resource),
        }
    }

    pub(crate) fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// A type of the core group at v1 (`namespaces`, `persistentvolumes`), for the requests ark
    /// makes before or without discovery.
    pub(crate) fn core(resource: &str, kind: &str, namespaced: bool) -> Self {
        Self {
            group: String::new(),
            version: "v1".into(),
            resource: resource.into(),
            kind: kind.into(),
            namespaced,
            verbs: Vec::new(),
            short_names: Vec::new(),
            singular: kind.to_ascii_lowercase(),
        }
    }

    /// A namespaced or cluster-scoped type at v1, for tests.
    #[cfg(test)]
    pub(crate) fn for_tests(group: &str, resource: &str, kind: &str, namespaced: bool) -> Self {
        Self { group: group.into(), ..Self::core(resource, kind, namespaced) }
    }

    /// Whether `name` (as a user types it) names this type: plural, singular, kind, short name,
    /// each alone or qualified with the group (`deploy`, `deployments.apps`, `Deployment`).
    pub(crate) fn is_named(&self, name: &str) -> bool {
        named_in_group(name, &self.group).is_some_and(|base| {
            base == self.resource
                || base == self.singular
                || base == self.kind.to_ascii_lowercase()
                || self.short_names.contains(&base)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> ResourceType {
        ResourceType {
            group: "apps".into(),
            version: "v1".into(),
            resource: "deployments".into(),
            kind: "Deployment".into(),
            namespaced: true,
            verbs: vec!["list".into()],
            short_names: vec!["deploy".into()],
            singular: "deployment".into(),
        }
    }

    #[test]
    fn names_match_as_kubectl_accepts_them() {
        let d = deployments();
        for name in ["deployments", "deployment", "deploy", "Deployment", "deployments.apps", "deploy.apps"] {
            assert!(d.is_named(name), "{name}");
        }
        for name in ["deployments.extensions", "pods", "dep"] {
            assert!(!d.is_named(name), "{name}");
        }
    }

    #[test]
    fn paths_and_names() {
        let d = deployments();
        assert_eq!(d.collection_path(Some("shop")), "/apis/apps/v1/namespaces/shop/deployments");
        assert_eq!(d.collection_path(None), "/apis/apps/v1/deployments");
        assert_eq!(d.group_resource().to_string(), "deployments.apps");
        assert_eq!(GroupResource::parse("configmaps"), GroupResource::new("", "configmaps"));
        assert_eq!(GroupResource::parse("prometheuses.monitoring.coreos.com").group, "monitoring.coreos.com");
    }
}
