//! Discovery: every resource type the server serves, built-in and custom, at its group's
//! preferred version. Aggregated discovery (one request for all groups) when the server offers
//! it, per-group discovery otherwise. A group that fails (an APIService with no backend) is
//! reported, never fatal.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::request::{self, ApiError};
use crate::model::ResourceType;

/// What discovery found: the usable types and the groups that could not be read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceCatalog {
    pub(crate) types: Vec<ResourceType>,
    /// `group/version` -> why it could not be discovered.
    pub(crate) failed_groups: BTreeMap<String, String>,
}

impl ResourceCatalog {
    /// The type a user means by `name` (`deploy`, `deployments.apps`, `Deployment`...).
    pub(crate) fn find(&self, name: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.is_named(name))
    }

    pub(crate) fn by_group_kind(&self, group: &str, kind: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == group && t.kind == kind)
    }
}

const AGGREGATED_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,\
application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

pub(crate) async fn discover(client: &kube::Client) -> Result<ResourceCatalog, ApiError> {
    let (core, groups) = tokio::try_join!(
        request::send(client, http::Method::GET, "/api", None, Some(AGGREGATED_ACCEPT), Vec::new()),
        request::send(client, http::Method::GET, "/apis", None, Some(AGGREGATED_ACCEPT), Vec::new()),
    )?;
    if let (Some(core), Some(groups)) = (parse_aggregated(&core), parse_aggregated(&groups)) {
        let mut catalog = core;
        catalog.types.extend(groups.types);
        catalog.failed_groups.extend(groups.failed_groups);
        return Ok(finish(catalog));
    }
    // Legacy discovery: /api lists core versions, /apis the groups with their preferred version.
    let core_versions: ApiVersions = decode("/api", &core)?;
    let group_list: ApiGroupList = decode("/apis", &groups)?;
    let mut targets: Vec<(String, String)> = Vec::new();
    if let Some(version) = core_versions.versions.first() {
        targets.push((String::new(), version.clone()));
    }
    for group in &group_list.groups {
        let preferred = group
            .preferred_version
            .as_ref()
            .map(|p| p.version.clone())
            .or_else(|| group.versions.first().map(|v| v.version.clone()));
        if let Some(version) = preferred {
            targets.push((group.name.clone(), version));
        }
    }
    let fetches = targets.into_iter().map(|(group, version)| async move {
        let path = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
        let result = request::get(client, &path).await;
        (group, version, result)
    });
    let mut catalog = ResourceCatalog::default();
    let results: Vec<_> =
        futures::StreamExt::collect(futures::StreamExt::buffer_unordered(futures::stream::iter(fetches), 8)).await;
    for (group, version, result) in results {
        let gv = if group.is_empty() { version.clone() } else { format!("{group}/{version}") };
        match result.and_then(|body| decode::<ApiResourceList>(&gv, &body)) {
            Ok(list) => catalog.types.extend(types_from_legacy(&group, &version, list)),
            // Gone between the group list and now (its CRD was deleted): nothing to discover.
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                catalog.failed_groups.insert(gv, e.message);
            }
        }
    }
    Ok(finish(catalog))
}

fn decode<T: serde::de::DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(http::Method::GET, path, format!("unexpected discovery document: {e}")))
}

/// Keeps what a backup can use (list, get, create and delete; no subresources), removes the
/// cohabiting copies of one type served by two groups, and sorts for stable output.
fn finish(mut catalog: ResourceCatalog) -> ResourceCatalog {
    catalog.types.retain(|t| {
        !t.resource.contains('/') && ["list", "get", "create", "delete"].iter().all(|verb| t.supports(verb))
    });
    let served: Vec<(String, String)> = catalog.types.iter().map(|t| (t.group.clone(), t.resource.clone())).collect();
    catalog.types.retain(|t| {
        !COHABITING.iter().any(|(old, new, resource)| {
            t.group == *old && t.resource == *resource && served.iter().any(|(g, r)| g == new && r == resource)
        })
    });
    catalog.types.sort_by(|a, b| (&a.group, &a.resource).cmp(&(&b.group, &b.resource)));
    catalog
}

/// Types served by two groups at once: (older group, newer group, resource). The older copy is
/// dropped when the newer one is served, so each object is backed up once.
const COHABITING: &[(&str, &str, &str)] = &[
    ("extensions", "apps", "deployments"),
    ("extensions", "apps", "daemonsets"),
    ("extensions", "apps", "replicasets"),
    ("extensions", "networking.k8s.io", "networkpolicies"),
    ("extensions", "networking.k8s.io", "ingresses"),
    ("extensions", "policy", "podsecuritypolicies"),
    ("events.k8s.io", "", "events"),
];

#[derive(Deserialize)]
struct ApiVersions {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct ApiGroupList {
    #[serde(default)]
    groups: Vec<ApiGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiGroup {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersion>,
    preferred_version: Option<GroupVersion>,
}

#[derive(Deserialize)]
struct GroupVersion {
    version: String,
}

#[derive(Deserialize)]
struct ApiResourceList {
    #[serde(default)]
    resources: Vec<LegacyResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyResource {
    name: String,
    #[serde(default)]
    singular_name: String,
    namespaced: bool,
    kind: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
}

fn types_from_legacy(group: &str, version: &str, list: ApiResourceList) -> Vec<ResourceType> {
    list.resources
        .into_iter()
        .map(|r| ResourceType {
            group: group.to_owned(),
            version: version.to_owned(),
            singular: if r.singular_name.is_empty() { r.kind.to_ascii_lowercase() } else { r.singular_name },
            resource: r.name,
            kind: r.kind,
            namespaced: r.namespaced,
            verbs: r.verbs,
            short_names: r.short_names,
        })
        .collect()
}

#[derive(Deserialize)]
struct AggregatedList {
    kind: String,
    #[serde(default)]
    items: Vec<AggregatedGroup>,
}

#[derive(Deserialize)]
struct AggregatedGroup {
    #[serde(default)]
    metadata: AggregatedMeta,
    #[serde(default)]
    versions: Vec<AggregatedVersion>,
}

#[derive(Deserialize, Default)]
struct AggregatedMeta {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct AggregatedVersion {
    version: String,
    #[serde(default)]
    resources: Vec<AggregatedResource>,
    #[serde(default)]
    freshness: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedResource {
    resource: String,
    #[serde(default)]
    response_kind: Option<ResponseKind>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    singular_resource: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
}

#[derive(Deserialize)]
struct ResponseKind {
    #[serde(default)]
    kind: String,
}

/// Parses an aggregated discovery answer; `None` when the server answered the legacy format.
/// Versions come in preference order, so the first is the preferred one; a preferred version
/// marked Stale (its APIService is unavailable) is a failed group.
fn parse_aggregated(body: &[u8]) -> Option<ResourceCatalog> {
    let list: AggregatedList = serde_json::from_slice(body).ok()?;
    if list.kind != "APIGroupDiscoveryList" {
        return None;
    }
    let mut catalog = ResourceCatalog::default();
    for group in list.items {
        let Some(version) = group.versions.into_iter().next() else { continue };
        let name = group.metadata.name;
        let gv = if name.is_empty() { version.version.clone() } else { format!("{name}/{}", version.version) };
        if version.freshness == "Stale" {
            catalog.failed_groups.insert(gv, "discovery information is stale (API service unavailable)".into());
            continue;
        }
        for r in version.resources {
            let kind = r.response_kind.map(|k| k.kind).unwrap_or_default();
            catalog.types.push(ResourceType {
                group: name.clone(),
                version: version.version.clone(),
                singular: if r.singular_resource.is_empty() { kind.to_ascii_lowercase() } else { r.singular_resource },
                resource: r.resource,
                kind,
                namespaced: r.scope == "Namespaced",
                verbs: r.verbs,
                short_names: r.short_names,
            });
        }
    }
    Some(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/discovery/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn aggregated_discovery_gives_preferred_versions_and_reports_stale_groups() {
        let mut catalog = parse_aggregated(&fixture("aggregated-apis.json")).unwrap();
        catalog.types.extend(parse_aggregated(&fixture("aggregated-api.json")).unwrap().types);
        let catalog = finish(catalog);
        let deployments = catalog.find("deploy").unwrap();
        assert_eq!((deployments.group.as_str(), deployments.version.as_str()), ("apps", "v1"));
        assert!(deployments.namespaced);
        let hpa = catalog.find("horizontalpodautoscalers").unwrap();
        assert_eq!(hpa.version, "v2", "first listed version is preferred");
        assert!(catalog.find("configmaps").is_some());
        assert!(catalog.find("pods/status").is_none(), "no subresources");
        assert!(catalog.find("tokenreviews").is_none(), "create-only types are unusable");
        assert!(catalog.failed_groups.contains_key("metrics.k8s.io/v1beta1"));
        assert_eq!(catalog.types.iter().filter(|t| t.resource == "events").count(), 1, "cohabiting events kept once");
        assert_eq!(catalog.types.iter().find(|t| t.resource == "events").unwrap().group, "");
    }

    #[test]
    fn legacy_discovery_documents_are_not_mistaken_for_aggregated() {
        assert!(parse_aggregated(br#"{"kind":"APIGroupList","groups":[]}"#).is_none());
        assert!(parse_aggregated(br#"{"kind":"APIVersions","versions":["v1"]}"#).is_none());
    }
}
