//! Paths inside the archive (DESIGN.md, "Archive layout"): the only place that spells them, in
//! both directions. Parsing refuses anything that could escape the archive or is not an item.

use crate::model::GroupResource;

/// Where an object lives in the archive. `version` is set for the copy under
/// `<version>-preferredversion/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemPath {
    pub(crate) group_resource: GroupResource,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) version: Option<String>,
}

const PREFERRED_SUFFIX: &str = "-preferredversion";

impl ItemPath {
    pub(crate) fn render(&self) -> String {
        let scope = match &self.namespace {
            Some(ns) => format!("namespaces/{ns}"),
            None => "cluster".to_owned(),
        };
        match &self.version {
            Some(version) => {
                format!("resources/{}/{version}{PREFERRED_SUFFIX}/{scope}/{}.json", self.group_resource, self.name)
            }
            None => format!("resources/{}/{scope}/{}.json", self.group_resource, self.name),
        }
    }
}

/// Parses an archive entry path back into an item. `None` for entries that are not items
/// (`metadata/version`) and for anything unsafe: absolute paths, `..`, empty segments,
/// backslashes or NUL bytes.
pub(crate) fn parse_item_path(path: &str) -> Option<ItemPath> {
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return None;
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
        return None;
    }
    let (group_resource, rest) = match parts.as_slice() {
        ["resources", gr, rest @ ..] => (GroupResource::parse(gr), rest),
        _ => return None,
    };
    let (version, rest) = match rest {
        [v, rest @ ..] if v.ends_with(PREFERRED_SUFFIX) => {
            (Some(v.trim_end_matches(PREFERRED_SUFFIX).to_owned()), rest)
        }
        _ => (None, rest),
    };
    let (namespace, file) = match rest {
        ["namespaces", ns, file] => (Some((*ns).to_owned()), *file),
        ["cluster", file] => (None, *file),
        _ => return None,
    };
    let name = file.strip_suffix(".json").filter(|n| !n.is_empty())?.to_owned();
    Some(ItemPath { group_resource, namespace, name, version })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_paths_round_trip() {
        let cases = [
            ("resources/deployments.apps/namespaces/shop/web.json", Some("shop"), None),
            ("resources/configmaps/namespaces/shop/cfg.json", Some("shop"), None),
            ("resources/clusterroles.rbac.authorization.k8s.io/cluster/system:admin.json", None, None),
            ("resources/deployments.apps/v1-preferredversion/namespaces/shop/web.json", Some("shop"), Some("v1")),
            ("resources/namespaces/v1-preferredversion/cluster/shop.json", None, Some("v1")),
        ];
        for (path, namespace, version) in cases {
            let item = parse_item_path(path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(item.namespace.as_deref(), namespace, "{path}");
            assert_eq!(item.version.as_deref(), version, "{path}");
            assert_eq!(item.render(), path);
        }
    }

    #[test]
    fn unsafe_or_foreign_paths_are_refused() {
        for path in [
            "/resources/pods/namespaces/a/b.json",
            "resources/pods/namespaces/../b.json",
            "resources/pods/namespaces/a/../../x.json",
            "resources/pods/namespaces/a/b.txt",
            "resources/pods/namespaces/a/.json",
            "resources//namespaces/a/b.json",
            "metadata/version",
            "resources/pods/namespaces/a/b/c.json",
            "resources\\pods/cluster/x.json",
        ] {
            assert_eq!(parse_item_path(path), None, "{path}");
        }
    }
}
