//! Which namespaces and resource types a backup or restore covers: include and exclude lists of
//! namespace names and globs (compiled once), and of resource type names. Pure logic over names.

use std::collections::BTreeSet;
use std::fmt;

/// Why a namespace pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatternError {
    #[error("empty namespace pattern")]
    Empty,
    #[error("pattern {0:?} has an unclosed '['")]
    Unclosed(String),
    #[error("pattern {pattern:?} is not a valid glob: {problem}")]
    Invalid { pattern: String, problem: &'static str },
}

/// A namespace name or shell-style glob (`*`, `?`, `[abc]`, `[a-z]`, `[!a]`), compiled once.
/// Stored as the text the user wrote.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "String", into = "String")]
pub(crate) struct NamePattern {
    text: String,
    /// None for a plain name, compared as it is; an error for a pattern `validate` refuses
    /// (such a pattern matches nothing).
    glob: Result<Option<glob::Pattern>, PatternError>,
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
    pub(crate) fn validate(&self) -> Result<(), PatternError> {
        self.glob.as_ref().map(|_| ()).map_err(Clone::clone)
    }
}

/// Compiles a pattern with the `glob` crate. `**` means what `*` does (a namespace has no
/// path segments for it to span) and `[^...]` what `[!...]` does, as they always did here.
fn compile(text: &str) -> Result<Option<glob::Pattern>, PatternError> {
    if text.is_empty() {
        return Err(PatternError::Empty);
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
        return Err(PatternError::Unclosed(text.to_owned()));
    }
    glob::Pattern::new(&translated)
        .map(Some)
        .map_err(|e| PatternError::Invalid { pattern: text.to_owned(), problem: e.msg })
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
pub(crate) fn validate_patterns<'a>(patterns: impl IntoIterator<Item = &'a NamePattern>) -> Result<(), PatternError> {
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

    pub(crate) fn validate(&self) -> Result<(), PatternError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
