//! Label selectors as kubectl writes them (`app=web,tier!=cache`, `env in (a,b)`, `!canary`),
//! one or several ORed, and the opt-out label. Pure logic over label maps.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// The opt-out label: objects labelled `ark.heptio.com/exclude-from-backup=true` are never
/// backed up.
pub(crate) const EXCLUDE_LABEL: &str = "ark.heptio.com/exclude-from-backup";

pub(crate) fn is_excluded_by_label(obj: &Value) -> bool {
    obj["metadata"]["labels"][EXCLUDE_LABEL] == "true"
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A label selector as kubectl accepts it: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
/// `a notin (x)`, `a`, `!a`, comma-separated and ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid label selector {selector:?}: {problem}")]
pub(crate) struct SelectorError {
    selector: String,
    problem: String,
}

impl LabelSelector {
    pub(crate) fn parse(text: &str) -> Result<Self, SelectorError> {
        let err = |problem: String| SelectorError { selector: text.to_owned(), problem };
        let mut requirements = Vec::new();
        for part in split_top_level(text).map_err(err)? {
            let part = part.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(err("empty requirement".into()));
            }
            requirements.push(parse_requirement(part).map_err(err)?);
        }
        Ok(Self { requirements })
    }

    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }

    pub(crate) fn matches_object(&self, obj: &Value) -> bool {
        let labels: BTreeMap<String, String> = obj["metadata"]["labels"]
            .as_object()
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        self.matches(&labels)
    }
}

/// Splits on commas that are not inside `( )`.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ')'".into());
                }
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unclosed '('".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_key(key)?;
        return Ok(Requirement::DoesNotExist(key.to_owned()));
    }
    for (op, build) in [
        ("!=", Requirement::NotEquals as fn(String, String) -> Requirement),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            let (key, value) = (key.trim(), value.trim());
            check_key(key)?;
            check_value(value)?;
            return Ok(build(key.to_owned(), value.to_owned()));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words.as_slice() {
        let rest = rest.trim();
        let (op, list) = if let Some(list) = rest.strip_prefix("notin") {
            ("notin", list)
        } else if let Some(list) = rest.strip_prefix("in") {
            ("in", list)
        } else {
            return Err(format!("unknown operator in {part:?}: use =, ==, !=, in, notin, or !KEY"));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| format!("expected a list in parentheses after {op:?} in {part:?}"))?;
        check_key(key)?;
        let values: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
        for v in &values {
            check_value(v)?;
        }
        return Ok(if op == "in" {
            Requirement::In((*key).to_owned(), values)
        } else {
            Requirement::NotIn((*key).to_owned(), values)
        });
    }
    check_key(part)?;
    Ok(Requirement::Exists(part.to_owned()))
}

fn is_name_part(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(alnum)
        && s.ends_with(alnum)
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
}

fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    });
    if !prefix_ok || !is_name_part(name) {
        return Err(format!("{key:?} is not a valid label key"));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), String> {
    if !value.is_empty() && !is_name_part(value) {
        return Err(format!("{value:?} is not a valid label value"));
    }
    Ok(())
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl std::str::FromStr for LabelSelector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, SelectorError> {
        Self::parse(s)
    }
}

impl serde::Serialize for LabelSelector {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for LabelSelector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One selector, or any of several (`--or-selector`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LabelFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) or_selectors: Vec<LabelSelector>,
}

impl LabelFilter {
    pub(crate) fn matches_object(&self, obj: &Value) -> bool {
        let any = self.selector.is_some() || !self.or_selectors.is_empty();
        !any || self.selector.iter().chain(&self.or_selectors).any(|s| s.matches_object(obj))
    }

    /// What the server can filter by itself (`?labelSelector=`): a single selector.
    pub(crate) fn server_side(&self) -> Option<String> {
        match (&self.selector, self.or_selectors.is_empty()) {
            (Some(selector), true) => Some(selector.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_match_as_kubernetes_does() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web,db)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("missing notin (db)", true),
            ("missing in (db)", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=front", true),
            ("app=web, tier=back", false),
            ("", true),
            ("example.com/role=x", false),
        ];
        for (text, want) in cases {
            let selector = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(selector.matches(&l), want, "{text}");
            assert_eq!(LabelSelector::parse(&selector.to_string()).unwrap(), selector, "round trip {text}");
        }
    }

    #[test]
    fn bad_selectors_are_named() {
        for text in ["a in b", "a in (x", "=b", "a=b=c", "a=b,", "Bad Key=1", "a notin x", "a=-x"] {
            let err = LabelSelector::parse(text).unwrap_err().to_string();
            assert!(err.contains(text), "{text}: {err}");
        }
    }

    #[test]
    fn label_filter_ors_selectors_and_knows_what_the_server_can_do() {
        let web = serde_json::json!({"metadata": {"labels": {"app": "web"}}});
        let bare = serde_json::json!({"metadata": {}});
        let one = LabelFilter { selector: Some(LabelSelector::parse("app=web").unwrap()), or_selectors: vec![] };
        assert!(one.matches_object(&web) && !one.matches_object(&bare));
        assert_eq!(one.server_side().as_deref(), Some("app=web"));
        let either = LabelFilter {
            selector: None,
            or_selectors: vec![LabelSelector::parse("app=db").unwrap(), LabelSelector::parse("app=web").unwrap()],
        };
        assert!(either.matches_object(&web) && !either.matches_object(&bare));
        assert_eq!(either.server_side(), None);
        assert!(LabelFilter::default().matches_object(&bare));
        assert!(is_excluded_by_label(&serde_json::json!({"metadata": {"labels": {EXCLUDE_LABEL: "true"}}})));
    }
}
