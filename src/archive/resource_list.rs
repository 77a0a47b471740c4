//! `<name>-resource-list.json.gz`, Velero's list of what an archive holds: for each type, keyed
//! `apps/v1/Deployment`, the `namespace/name` of each of its objects. Built as the archive is
//! written, so it always lists exactly what the archive holds.

use std::collections::BTreeMap;

use crate::model::ResourceType;

#[derive(Debug, Default)]
pub(crate) struct ResourceList {
    items: u64,
    /// `apps/v1/Deployment` -> its items.
    per_type: BTreeMap<String, TypeTally>,
    /// The key of the type last added, with what it was made of: objects come a type at a time,
    /// so most items need no new key.
    last: Option<(String, String, String, String)>,
}

#[derive(Debug)]
struct TypeTally {
    group_resource: String,
    items: u64,
    /// The `"namespace/name"` strings, comma-separated JSON: a few bytes per object rather than
    /// a `String` each.
    names_json: Vec<u8>,
}

impl ResourceList {
    pub(crate) fn add(&mut self, resource: &ResourceType, namespace: Option<&str>, name: &str) {
        self.items += 1;
        let key = self.key(resource);
        let tally = self.per_type.entry(key).or_insert_with(|| TypeTally {
            group_resource: resource.group_resource().to_string(),
            items: 0,
            names_json: Vec::new(),
        });
        if tally.items > 0 {
            tally.names_json.push(b',');
        }
        tally.items += 1;
        let entry = match namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_owned(),
        };
        // Serialising a string into memory cannot fail.
        let _ = serde_json::to_writer(&mut tally.names_json, &entry);
    }

    /// `apps/v1/Deployment`: Velero's key for the type.
    fn key(&mut self, resource: &ResourceType) -> String {
        let same = |(group, version, kind, _): &(String, String, String, String)| {
            *group == resource.group && *version == resource.version && *kind == resource.kind
        };
        if !self.last.as_ref().is_some_and(same) {
            let key = format!("{}/{}", resource.api_version(), resource.kind);
            self.last = Some((resource.group.clone(), resource.version.clone(), resource.kind.clone(), key));
        }
        self.last.as_ref().map(|(.., key)| key.clone()).unwrap_or_default()
    }

    /// How many objects are listed.
    pub(crate) fn items(&self) -> u64 {
        self.items
    }

    /// group-resource -> number of objects (the backup record's `resourceCounts`).
    pub(crate) fn counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for tally in self.per_type.values() {
            *counts.entry(tally.group_resource.clone()).or_default() += tally.items;
        }
        counts
    }

    /// The file's JSON: `{"apps/v1/Deployment": ["namespace/name", ...], ...}`.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = b"{".to_vec();
        for (i, (key, tally)) in self.per_type.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut out, key);
            out.extend_from_slice(b":[");
            out.extend_from_slice(&tally.names_json);
            out.push(b']');
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_velero_resource_list_and_counts() {
        let deployments = ResourceType::for_tests("apps", "deployments", "Deployment", true);
        let namespaces = ResourceType::for_tests("", "namespaces", "Namespace", false);
        let mut list = ResourceList::default();
        list.add(&deployments, Some("shop"), "web");
        list.add(&namespaces, None, "shop");
        list.add(&deployments, Some("shop"), "we\"ird");
        let json: BTreeMap<String, Vec<String>> = serde_json::from_slice(&list.to_json()).unwrap();
        assert_eq!(json["apps/v1/Deployment"], ["shop/web", "shop/we\"ird"]);
        assert_eq!(json["v1/Namespace"], ["shop"]);
        assert_eq!(list.items(), 3);
        assert_eq!(list.counts(), BTreeMap::from([("deployments.apps".into(), 2), ("namespaces".into(), 1)]));
        assert_eq!(String::from_utf8(ResourceList::default().to_json()).unwrap(), "{}");
    }
}
