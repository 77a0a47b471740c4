//! What a backup or restore covers: namespace globs with include/exclude lists, and label
//! selectors as kubectl writes them. Pure logic over names and label maps.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// The opt-out label: objects labelled `ark.heptio.com/exclude-from-backup=true` are never
/// backed up.
pub(crate) const EXCLUDE_LABEL: &str = "ark.heptio.com/exclude-from-backup";

pub(crate) fn is_excluded_by_label(obj: &Value) -> bool {
    obj["metadata"]["labels"][EXCLUDE_LABEL] == "true"
}

/// A namespace name or shell-style glob (`*`, `?`, `[abc]`, `[a-z]`, `[!a]`), compiled once.
/// Stored as the text the user wrote.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "String", into = "String")]
pub(crate) struct NamePattern {
    text: String,
    /// None for a plain name, compared as it is; an error for a pattern `validate` refuses
    /// (such a pattern matches nothing).
    glob: Result<Option<glob::Pattern>, String>,
}

impl NamePattern {
    pub(crate) fn new(text: &str) -> Self {
        Self { text: text.to_owned(), glob: compile(text) }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it has glob characters (`*`, `?`, `[`) rather than being a plain name.
    pub(crate) fn is_glob(&self) -> bool {
        is_glob(&self.text)
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        match &self.glob {
            Ok(None) => self.text == name,
            Ok(Some(glob)) => glob.matches(name),
            Err(_) => false,
        }
    }

    /// Why the pattern cannot be used, if it cannot.
    pub(crate) fn validate(&self) -> Result<(), String> {
        self.glob.as_ref().map(|_| ()).map_err(Clone::clone)
    }
}

/// Compiles a pattern with the `glob` crate. `**` means what `*` does (a namespace has no
/// path segments for it to span) and `[^...]` what `[!...]` does, as they always did here.
fn compile(text: &str) -> Result<Option<glob::Pattern>, String> {
    if text.is_empty() {
        return Err("empty namespace pattern".into());
    }
    if !is_glob(text) {
        return Ok(None);
    }
    let mut translated = String::with_capacity(text.len());
    let mut in_class = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        translated.push(c);
        match c {
            '[' if !in_class => {
                in_class = true;
                if chars.next_if_eq(&'^').is_some() {
                    translated.push('!');
                }
            }
            ']' if in_class => in_class = false,
            '*' if !in_class => while chars.next_if_eq(&'*').is_some() {},
            _ => {}
        }
    }
    if in_class {
        return Err(format!("pattern {text:?} has an unclosed '['"));
    }
    glob::Pattern::new(&translated).map(Some).map_err(|e| format!("pattern {text:?} is not a valid glob: {}", e.msg))
}

impl From<String> for NamePattern {
    fn from(text: String) -> Self {
        Self::new(&text)
    }
}

impl From<NamePattern> for String {
    fn from(pattern: NamePattern) -> String {
        pattern.text
    }
}

impl PartialEq for NamePattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for NamePattern {}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether `name` is in `include` (an empty list, or `*`, includes everything) and not in
/// `exclude`: exclusion wins.
pub(crate) fn patterns_match(include: &[NamePattern], exclude: &[NamePattern], name: &str) -> bool {
    let included = include.is_empty() || include.iter().any(|p| p.matches(name));
    included && !exclude.iter().any(|p| p.matches(name))
}

/// The first pattern that cannot be used, and why.
pub(crate) fn validate_patterns<'a>(patterns: impl IntoIterator<Item = &'a NamePattern>) -> Result<(), String> {
    patterns.into_iter().try_for_each(NamePattern::validate)
}

/// Namespaces to include and exclude, by name or glob: an empty include (or `*`) means every
/// namespace, and exclusion wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespaceFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) include: Vec<NamePattern>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) exclude: Vec<NamePattern>,
}

impl NamespaceFilter {
    pub(crate) fn new(include: &[String], exclude: &[String]) -> Self {
        let patterns = |texts: &[String]| texts.iter().map(|t| NamePattern::new(t)).collect();
        Self { include: patterns(include), exclude: patterns(exclude) }
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        patterns_match(&self.include, &self.exclude, name)
    }

    pub(crate) fn is_all(&self) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.as_str() == "*")) && self.exclude.is_empty()
    }

    /// The include patterns (other than `*`) that match none of `names`.
    pub(crate) fn unmatched_includes<'a>(&'a self, names: &BTreeSet<String>) -> Vec<&'a NamePattern> {
        self.include.iter().filter(|p| p.as_str() != "*" && !names.iter().any(|name| p.matches(name))).collect()
    }

    /// The included names when none is a glob, so a caller can ask for just those.
    pub(crate) fn literal_includes(&self) -> Option<Vec<String>> {
        let literal = !self.include.is_empty() && self.include.iter().all(|p| !p.is_glob());
        literal.then(|| self.include.iter().map(|p| p.as_str().to_owned()).collect())
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        validate_patterns(self.include.iter().chain(&self.exclude))
    }
}

/// Resource types to include and exclude, each by a name kubectl accepts (`deployments.apps`,
/// `deploy`, `Deployment`) or `*`: an empty include (or `*`) means every type, and exclusion
/// wins. How the names meet the types is `Scope::takes_resource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) exclude: Vec<String>,
}

impl ResourceFilter {
    /// Whether the include list asks for every type (it is empty, or holds `*`).
    pub(crate) fn includes_all(&self) -> bool {
        self.include.is_empty() || self.include.iter().any(|n| n == "*")
    }
}

/// Whether `pattern` has glob characters (`*`, `?`, `[`) rather than being a plain name.
fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
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
    fn globs_match_whole_names() {
        let cases = [
            ("team-*", "team-a", true),
            ("team-*", "team-", true),
            ("team-*", "my-team-a", false),
            ("team-**", "team-a", true),
            ("?a", "ba", true),
            ("?a", "a", false),
            ("[ab]x", "bx", true),
            ("[a-c]x", "cx", true),
            ("[!a]x", "ax", false),
            ("[^a]x", "ax", false),
            ("[^a]x", "bx", true),
            ("*", "", true),
            ("shop", "shop", true),
            ("shop", "shop2", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(NamePattern::new(pattern).matches(name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn include_exclude_precedence_and_literals() {
        let f = NamespaceFilter::new(&["team-*".into()], &["team-b".into()]);
        assert!(f.matches("team-a") && !f.matches("team-b") && !f.matches("other"));
        assert!(!f.is_all() && f.literal_includes().is_none());
        assert!(NamespaceFilter::default().is_all());
        let names: BTreeSet<String> = ["team-a".to_string(), "shop".to_string()].into();
        let f = NamespaceFilter::new(&["team-*".into(), "web-*".into(), "shop".into(), "db".into(), "*".into()], &[]);
        let unmatched: Vec<&str> = f.unmatched_includes(&names).into_iter().map(NamePattern::as_str).collect();
        assert_eq!(unmatched, vec!["web-*", "db"]);
        let literal = NamespaceFilter::new(&["a".into(), "b".into()], &[]);
        assert_eq!(literal.literal_includes(), Some(vec!["a".into(), "b".into()]));
        for bad in ["[x", "", "[]x"] {
            assert!(NamespaceFilter::new(&[bad.into()], &[]).validate().is_err(), "{bad:?}");
            assert!(!NamePattern::new(bad).matches(bad), "{bad:?} matches nothing");
        }
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"include":["team-*","web-*","shop","db","*"]}"#);
        assert_eq!(serde_json::from_str::<NamespaceFilter>(&json).unwrap(), f);
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
