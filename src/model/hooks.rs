//! Backup hooks as users declare them: commands to run in pods' containers before and after a
//! backup (to flush a database to disk, say), from pod annotations or from a hooks file
//! (`ark backup create --hooks FILE`), and the result of each run as the backup record keeps it.
//! Plain data and the pure rules that read it; running the commands is `ops::backup::hooks`' job.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::HumanDuration;
use super::filters::{NamePattern, patterns_match, validate_patterns};
use super::labels::LabelSelector;

/// When a hook runs: before anything is listed, or after the backup is written (or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HookPhase {
    Pre,
    Post,
}

impl HookPhase {
    /// `pre.hook.backup.ark.heptio.com/`: the prefix of the annotations that declare this phase's
    /// hook on a pod.
    pub(crate) fn annotation_prefix(self) -> &'static str {
        match self {
            Self::Pre => "pre.hook.backup.ark.heptio.com/",
            Self::Post => "post.hook.backup.ark.heptio.com/",
        }
    }
}

impl fmt::Display for HookPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Pre => "pre",
            Self::Post => "post",
        })
    }
}

/// What a failing hook does to the backup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum HookErrorMode {
    /// The backup fails (its post hooks still run).
    #[default]
    Fail,
    /// A warning; the backup goes on.
    Continue,
}

impl fmt::Display for HookErrorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// How long a hook may run before it is cancelled, unless it says otherwise.
pub(crate) const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(30);

fn default_timeout() -> HumanDuration {
    HumanDuration(DEFAULT_HOOK_TIMEOUT)
}

/// One command run in one container of a pod, without a shell unless the command runs one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExecHook {
    /// None = the pod's first container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) container: Option<String>,
    pub(crate) command: Vec<String>,
    #[serde(default)]
    pub(crate) on_error: HookErrorMode,
    #[serde(default = "default_timeout")]
    pub(crate) timeout: HumanDuration,
}

impl ExecHook {
    fn validate(&self) -> Result<(), String> {
        if self.command.is_empty() || self.command[0].is_empty() {
            return Err("the command is empty".into());
        }
        if self.timeout.0.is_zero() {
            return Err("the timeout must be more than 0".into());
        }
        if self.container.as_deref() == Some("") {
            return Err("the container name is empty".into());
        }
        Ok(())
    }
}

/// One item of a `pre` or `post` list in the hooks file: `- exec: {...}`, the shape Velero uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HookEntry {
    pub(crate) exec: ExecHook,
}

/// One entry of the hooks file: hooks for the pods in some namespaces that match a label
/// selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PodHookSpec {
    /// Names the entry in logs and messages.
    pub(crate) name: String,
    /// Namespaces (globs work); empty = every namespace the backup covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) included_namespaces: Vec<NamePattern>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) excluded_namespaces: Vec<NamePattern>,
    /// A selector as kubectl writes it (`app=db`), or Kubernetes' `matchLabels` and
    /// `matchExpressions`; stored in the first form. None = every pod.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "label_selector")]
    pub(crate) label_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) pre: Vec<HookEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) post: Vec<HookEntry>,
}

impl PodHookSpec {
    /// Whether this entry's hooks are for a pod in `namespace` with `labels`.
    pub(crate) fn selects(&self, namespace: &str, labels: &BTreeMap<String, String>) -> bool {
        patterns_match(&self.included_namespaces, &self.excluded_namespaces, namespace)
            && self.label_selector.as_ref().is_none_or(|s| s.matches(labels))
    }

    pub(crate) fn hooks(&self, phase: HookPhase) -> impl Iterator<Item = &ExecHook> {
        match phase {
            HookPhase::Pre => &self.pre,
            HookPhase::Post => &self.post,
        }
        .iter()
        .map(|entry| &entry.exec)
    }
}

/// The hooks file's top level: `resources:`, a list of entries (Velero's `spec.hooks`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksFile {
    resources: Vec<PodHookSpec>,
}

/// Reads a hooks file's text; the error names the entry, field and line at fault.
pub(crate) fn parse_hooks_file(text: &str) -> Result<Vec<PodHookSpec>, String> {
    let file: HooksFile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    if file.resources.is_empty() {
        return Err("`resources` lists no entries".into());
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, entry) in file.resources.iter().enumerate() {
        let at = |problem: String| format!("resources[{i}] ({:?}): {problem}", entry.name);
        if entry.name.is_empty() {
            return Err(format!("resources[{i}]: the name is empty"));
        }
        if !names.insert(entry.name.as_str()) {
            return Err(at("another entry has the same name".into()));
        }
        validate_patterns(entry.included_namespaces.iter().chain(&entry.excluded_namespaces))
            .map_err(|e| at(e.to_string()))?;
        if entry.pre.is_empty() && entry.post.is_empty() {
            return Err(at("no pre or post hooks".into()));
        }
        for (list, hooks) in [("pre", &entry.pre), ("post", &entry.post)] {
            for (j, hook) in hooks.iter().enumerate() {
                hook.exec.validate().map_err(|problem| at(format!("{list}[{j}]: {problem}")))?;
            }
        }
    }
    Ok(file.resources)
}

/// The hook a pod's annotations declare for `phase`: None without a `command` annotation, an
/// error naming the annotation when one of them cannot be read.
pub(crate) fn annotation_hook(
    annotations: &BTreeMap<String, String>,
    phase: HookPhase,
) -> Option<Result<ExecHook, String>> {
    let prefix = phase.annotation_prefix();
    let get = |key: &str| annotations.get(&format!("{prefix}{key}")).map(|v| v.trim());
    let command = get("command")?;
    let problem = |key: &str, problem: String| format!("annotation {prefix}{key}: {problem}");
    let read = || {
        let command = parse_command(command).map_err(|p| problem("command", p))?;
        let on_error = match get("on-error") {
            None | Some("Fail") => HookErrorMode::Fail,
            Some("Continue") => HookErrorMode::Continue,
            Some(other) => return Err(problem("on-error", format!("{other:?} is neither Fail nor Continue"))),
        };
        let timeout = match get("timeout") {
            None => default_timeout(),
            Some(text) => HumanDuration::parse(text).map_err(|e| problem("timeout", e.to_string()))?,
        };
        if timeout.0.is_zero() {
            return Err(problem("timeout", "the timeout must be more than 0".into()));
        }
        // An empty container annotation means the default, as no annotation does.
        let container = get("container").filter(|c| !c.is_empty()).map(str::to_owned);
        Ok(ExecHook { container, command, on_error, timeout })
    };
    Some(read())
}

/// A JSON array of strings, or any other text as a single argument (`/sbin/sync`).
fn parse_command(text: &str) -> Result<Vec<String>, String> {
    if text.is_empty() {
        return Err("the command is empty".into());
    }
    if !text.starts_with('[') {
        return Ok(vec![text.to_owned()]);
    }
    let command: Vec<String> = serde_json::from_str(text).map_err(|e| format!("not a JSON array of strings: {e}"))?;
    if command.first().is_none_or(String::is_empty) {
        return Err("the command is empty".into());
    }
    Ok(command)
}

/// What one hook did, as the backup record and log keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HookResult {
    pub(crate) phase: HookPhase,
    pub(crate) namespace: String,
    pub(crate) pod: String,
    pub(crate) container: String,
    pub(crate) command: Vec<String>,
    /// The hooks file entry the hook came from; None = the pod's annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hook_spec: Option<String>,
    pub(crate) on_error: HookErrorMode,
    pub(crate) started: DateTime<Utc>,
    pub(crate) duration: HumanDuration,
    /// The command's exit status, when it ran to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exit_code: Option<i32>,
    /// Why the command did not run to an exit status: a timeout, a missing container, a
    /// refused exec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// What the command printed, cut after a few KiB.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) stdout: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) stderr: String,
}

impl HookResult {
    pub(crate) fn succeeded(&self) -> bool {
        self.error.is_none() && self.exit_code == Some(0)
    }

    /// `exit status 2`, or what went wrong.
    pub(crate) fn outcome(&self) -> String {
        match (&self.error, self.exit_code) {
            (Some(error), _) => error.clone(),
            (None, Some(code)) => format!("exit status {code}"),
            (None, None) => "no exit status".into(),
        }
    }

    /// `pre hook "freeze" ["fsfreeze","-f","/data"] in pod shop/db-0, container db`.
    pub(crate) fn hook_name(&self) -> String {
        let spec = self.hook_spec.as_ref().map(|name| format!("{name:?} ")).unwrap_or_default();
        let command = serde_json::to_string(&self.command).unwrap_or_default();
        format!(
            "{} hook {spec}{command} in pod {}/{}, container {}",
            self.phase, self.namespace, self.pod, self.container
        )
    }
}

/// Kubernetes' structured selector, turned into the kubectl form `LabelSelector` reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StructuredSelector {
    #[serde(default)]
    match_labels: BTreeMap<String, String>,
    #[serde(default)]
    match_expressions: Vec<SelectorExpression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectorExpression {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
}

impl StructuredSelector {
    fn to_selector(&self) -> Result<LabelSelector, String> {
        let mut parts: Vec<String> = self.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for e in &self.match_expressions {
            let values = || {
                if e.values.is_empty() {
                    Err(format!("matchExpressions: {} {} needs values", e.key, e.operator))
                } else {
                    Ok(e.values.join(","))
                }
            };
            parts.push(match e.operator.as_str() {
                "In" => format!("{} in ({})", e.key, values()?),
                "NotIn" => format!("{} notin ({})", e.key, values()?),
                "Exists" => e.key.clone(),
                "DoesNotExist" => format!("!{}", e.key),
                other => {
                    return Err(format!(
                        "matchExpressions: unknown operator {other:?} (use In, NotIn, Exists or DoesNotExist)"
                    ));
                }
            });
        }
        LabelSelector::parse(&parts.join(",")).map_err(|e| e.to_string())
    }
}

fn label_selector<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<LabelSelector>, D::Error> {
    struct SelectorVisitor;

    impl<'de> Visitor<'de> for SelectorVisitor {
        type Value = LabelSelector;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a label selector: a string such as \"app=db\", or matchLabels and matchExpressions")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<LabelSelector, E> {
            LabelSelector::parse(text).map_err(E::custom)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LabelSelector, A::Error> {
            let structured = StructuredSelector::deserialize(de::value::MapAccessDeserializer::new(map))?;
            structured.to_selector().map_err(de::Error::custom)
        }
    }

    deserializer.deserialize_any(SelectorVisitor).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn annotations_declare_one_hook_per_phase() {
        let a = annotations(&[
            ("pre.hook.backup.ark.heptio.com/command", r#"["/bin/sh", "-c", "sync"]"#),
            ("pre.hook.backup.ark.heptio.com/container", "db"),
            ("pre.hook.backup.ark.heptio.com/on-error", "Continue"),
            ("pre.hook.backup.ark.heptio.com/timeout", "90s"),
            ("post.hook.backup.ark.heptio.com/command", "/sbin/unfreeze --all"),
        ]);
        let pre = annotation_hook(&a, HookPhase::Pre).unwrap().unwrap();
        assert_eq!(pre.command, ["/bin/sh", "-c", "sync"]);
        assert_eq!(pre.container.as_deref(), Some("db"));
        assert_eq!(pre.on_error, HookErrorMode::Continue);
        assert_eq!(pre.timeout.0, Duration::from_secs(90));
        let post = annotation_hook(&a, HookPhase::Post).unwrap().unwrap();
        assert_eq!(post.command, ["/sbin/unfreeze --all"], "a plain string is one argument, no shell");
        assert_eq!((post.container, post.on_error, post.timeout.0), (None, HookErrorMode::Fail, DEFAULT_HOOK_TIMEOUT));
        let only_container = annotations(&[("pre.hook.backup.ark.heptio.com/container", "db")]);
        assert!(annotation_hook(&only_container, HookPhase::Pre).is_none(), "no command, no hook");
    }

    #[test]
    fn bad_annotations_are_named() {
        let cases = [
            (vec![("command", "[\"a\", 1]")], "annotation pre.hook.backup.ark.heptio.com/command: not a JSON array"),
            (vec![("command", "[]")], "command: the command is empty"),
            (vec![("command", "  ")], "command: the command is empty"),
            (vec![("command", "x"), ("on-error", "fail")], "on-error: \"fail\" is neither Fail nor Continue"),
            (vec![("command", "x"), ("timeout", "soon")], "timeout: invalid duration \"soon\""),
            (vec![("command", "x"), ("timeout", "0")], "timeout: the timeout must be more than 0"),
        ];
        for (pairs, want) in cases {
            let a: BTreeMap<String, String> =
                pairs.iter().map(|(k, v)| (format!("pre.hook.backup.ark.heptio.com/{k}"), v.to_string())).collect();
            let err = annotation_hook(&a, HookPhase::Pre).unwrap().unwrap_err();
            assert!(err.contains(want), "{pairs:?}: {err}");
        }
    }

    const FILE: &str = r#"
resources:
  - name: freeze-db
    includedNamespaces: [shop-*]
    excludedNamespaces: [shop-test]
    labelSelector:
      matchLabels: {app: db}
      matchExpressions:
        - {key: tier, operator: In, values: [primary, replica]}
        - {key: canary, operator: DoesNotExist}
    pre:
      - exec:
          container: db
          command: [/bin/sh, -c, "psql -c CHECKPOINT"]
          onError: Continue
          timeout: 2m
    post:
      - exec:
          command: [/bin/true]
  - name: everything
    labelSelector: "app in (web)"
    post:
      - exec: {command: [sync]}
"#;

    #[test]
    fn hooks_file_selects_pods_by_namespace_and_labels() {
        let specs = parse_hooks_file(FILE).unwrap();
        assert_eq!(specs.len(), 2);
        let db = &specs[0];
        assert_eq!(db.label_selector.as_ref().unwrap().to_string(), "app=db,tier in (primary,replica),!canary");
        let pre: Vec<&ExecHook> = db.hooks(HookPhase::Pre).collect();
        assert_eq!(pre[0].on_error, HookErrorMode::Continue);
        assert_eq!(pre[0].timeout.0, Duration::from_secs(120));
        assert_eq!(db.hooks(HookPhase::Post).next().unwrap().timeout.0, DEFAULT_HOOK_TIMEOUT);
        let labels = |pairs: &[(&str, &str)]| annotations(pairs);
        let primary = labels(&[("app", "db"), ("tier", "primary")]);
        let cases = [
            ("shop-a", primary.clone(), true),
            ("shop-test", primary.clone(), false),
            ("other", primary.clone(), false),
            ("shop-a", labels(&[("app", "db"), ("tier", "primary"), ("canary", "1")]), false),
            ("shop-a", labels(&[("app", "db")]), false),
        ];
        for (namespace, labels, want) in cases {
            assert_eq!(db.selects(namespace, &labels), want, "{namespace} {labels:?}");
        }
        assert!(specs[1].selects("anything", &labels(&[("app", "web")])));
        // Stored in the record and read back the same.
        let json = serde_json::to_string(&specs).unwrap();
        assert_eq!(serde_json::from_str::<Vec<PodHookSpec>>(&json).unwrap(), specs);
    }

    #[test]
    fn bad_hooks_files_are_named() {
        let cases = [
            ("resources: []", "lists no entries"),
            ("resource: []", "unknown field `resource`"),
            (
                "resources:\n  - name: a\n    pre:\n      - exec: {command: []}\n",
                "resources[0] (\"a\"): pre[0]: the command is empty",
            ),
            ("resources:\n  - name: a\n", "resources[0] (\"a\"): no pre or post hooks"),
            (
                "resources:\n  - name: a\n    pre:\n      - exec: {command: [x], onError: Maybe}\n",
                "unknown variant `Maybe`",
            ),
            (
                "resources:\n  - name: a\n    labelSelector: \"a in b\"\n    post: [{exec: {command: [x]}}]\n",
                "invalid label selector",
            ),
            (
                "resources:\n  - name: a\n    labelSelector: {matchExpressions: [{key: a, operator: Has}]}\n    post: [{exec: {command: [x]}}]\n",
                "unknown operator \"Has\"",
            ),
            (
                "resources:\n  - name: a\n    includedNamespaces: [\"[x\"]\n    post: [{exec: {command: [x]}}]\n",
                "unclosed '['",
            ),
            (
                "resources:\n  - name: a\n    post: [{exec: {command: [x]}}]\n  - name: a\n    post: [{exec: {command: [y]}}]\n",
                "resources[1] (\"a\"): another entry has the same name",
            ),
            (
                "resources:\n  - name: a\n    post: [{exec: {command: [x], timeout: 0}}]\n",
                "the timeout must be more than 0",
            ),
            ("resources:\n  - name: a\n    post: [{exec: {command: [x], timout: 1s}}]\n", "unknown field `timout`"),
        ];
        for (text, want) in cases {
            let err = parse_hooks_file(text).unwrap_err();
            assert!(err.contains(want), "{text}\n=> {err}");
        }
    }

    #[test]
    fn results_name_the_hook_and_how_it_ended() {
        let result = HookResult {
            phase: HookPhase::Pre,
            namespace: "shop".into(),
            pod: "db-0".into(),
            container: "db".into(),
            command: vec!["fsfreeze".into(), "-f".into()],
            hook_spec: Some("freeze".into()),
            on_error: HookErrorMode::Fail,
            started: DateTime::<Utc>::UNIX_EPOCH,
            duration: HumanDuration(Duration::from_millis(12)),
            exit_code: Some(2),
            error: None,
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(result.hook_name(), r#"pre hook "freeze" ["fsfreeze","-f"] in pod shop/db-0, container db"#);
        assert_eq!(result.outcome(), "exit status 2");
        assert!(!result.succeeded());
    }
}
