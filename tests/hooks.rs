//! End-to-end: backup hooks run through the real apiserver's pod exec, answered by the
//! stand-in kubelet of tests/support/kubelet.rs.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::kubelet::{Answer, ExecCall, kubelet};
use support::{Ark, kubectl, stderr, stdout, unique};

const PRE: &str = "pre.hook.backup.ark.heptio.com/";
const POST: &str = "post.hook.backup.ark.heptio.com/";

fn backup_json(ark: &Ark, name: &str, details: bool) -> Value {
    let mut args = vec!["backup", "describe", name, "-o", "json"];
    if details {
        args.push("--details");
    }
    serde_json::from_str(&ark.ok(&args)).unwrap()
}

/// `(pod, container, command)` of each call, in order.
fn summary(calls: &[ExecCall]) -> Vec<(String, String, String)> {
    calls.iter().map(|c| (c.pod.clone(), c.container.clone(), c.command.join(" "))).collect()
}

fn call(pod: &str, container: &str, command: &str) -> (String, String, String) {
    (pod.to_owned(), container.to_owned(), command.to_owned())
}

/// An answer that first creates ConfigMap `name` in `namespace`: what the command "did".
fn creating_configmap(namespace: &str, name: &str, stdout: &str) -> Answer {
    let (namespace, name) = (namespace.to_owned(), name.to_owned());
    Answer {
        stdout: stdout.to_owned(),
        effect: Some(Arc::new(move || {
            let out = kubectl(&["create", "configmap", &name, "-n", &namespace]);
            assert!(out.status.success(), "{}", stderr(&out));
        })),
        ..Answer::default()
    }
}

fn resource_version(namespace: &str, configmap: &str) -> u64 {
    let out = kubectl(&["get", "configmap", configmap, "-n", namespace, "-o", "jsonpath={.metadata.resourceVersion}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).parse().unwrap()
}

#[test]
fn annotation_hooks_run_before_the_backup_lists_and_after_it_is_written() {
    let kubelet = kubelet();
    let namespace = kubelet.namespace("hooks-order");
    let ns = namespace.name.as_str();
    let pre = format!(r#"["/bin/sh", "-c", "flush-tables {ns}"]"#);
    let post = format!(r#"["/bin/sh", "-c", "unlock-tables {ns}"]"#);
    kubelet.answer(&format!("/bin/sh -c flush-tables {ns}"), creating_configmap(ns, "made-by-pre", "tables flushed\n"));
    kubelet
        .answer(&format!("/bin/sh -c unlock-tables {ns}"), creating_configmap(ns, "made-by-post", "tables unlocked\n"));
    kubelet.create_pod(
        ns,
        "db",
        &["db", "sidecar"],
        &[],
        &[
            (&format!("{PRE}command"), &pre),
            (&format!("{PRE}container"), "sidecar"),
            (&format!("{POST}command"), &post),
        ],
        true,
    );

    let ark = Ark::new();
    let name = unique("hooked");
    let out = ark.run(&["backup", "create", &name, "-n", ns]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("Hooks: 2 in 1 pods (1 pre, 1 post), 0 failed"), "{}", stdout(&out));

    // The pre hook in the container it names, the post hook in the first one.
    assert_eq!(
        summary(&kubelet.calls(ns)),
        [
            call("db", "sidecar", &format!("/bin/sh -c flush-tables {ns}")),
            call("db", "db", &format!("/bin/sh -c unlock-tables {ns}"))
        ]
    );

    // What the pre hook did is in the backup, listed after it; what the post hook did is not.
    let record = backup_json(&ark, &name, true);
    assert_eq!(record["phase"], "Completed");
    let revision: u64 = record["revision"].as_str().unwrap().parse().unwrap();
    let configmaps: Vec<&str> =
        record["resourceList"]["v1/ConfigMap"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(configmaps.contains(&format!("{ns}/made-by-pre").as_str()), "{configmaps:?}");
    assert!(!configmaps.contains(&format!("{ns}/made-by-post").as_str()), "{configmaps:?}");
    assert!(resource_version(ns, "made-by-pre") <= revision);
    assert!(resource_version(ns, "made-by-post") > revision);

    let hooks = record["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    assert_eq!((hooks[0]["phase"].as_str(), hooks[0]["container"].as_str()), (Some("pre"), Some("sidecar")));
    assert_eq!((hooks[0]["exitCode"].as_i64(), hooks[0]["stdout"].as_str()), (Some(0), Some("tables flushed\n")));
    assert_eq!((hooks[1]["phase"].as_str(), hooks[1]["container"].as_str()), (Some("post"), Some("db")));
    assert_eq!(hooks[1]["stdout"], "tables unlocked\n");
    assert_eq!(hooks[1]["command"], serde_json::json!(["/bin/sh", "-c", format!("unlock-tables {ns}")]));

    // The log tells the same story in the same order.
    let log = ark.ok(&["backup", "logs", &name]);
    let at = |needle: &str| log.find(needle).unwrap_or_else(|| panic!("{needle:?} in\n{log}"));
    assert!(at("tables flushed") < at("at revision"), "{log}");
    assert!(at("archive:") < at("tables unlocked"), "{log}");
    assert!(
        log.contains(&format!(
            "pre hook [\"/bin/sh\",\"-c\",\"flush-tables {ns}\"] in pod {ns}/db, container sidecar: exit status 0"
        )),
        "{log}"
    );

    let text = ark.ok(&["backup", "describe", &name]);
    assert!(text.contains("Hooks:          2 in 1 pods (1 pre, 1 post), 0 failed"), "{text}");
    assert!(text.contains("Use --details to list every object and hook."), "{text}");
    let details = ark.ok(&["backup", "describe", &name, "--details"]);
    assert!(details.contains(&format!("  pre  {ns}/db, container sidecar (annotation): ")), "{details}");
    assert!(details.contains("stdout: tables unlocked"), "{details}");
}

#[test]
fn a_failing_hook_fails_the_backup_unless_it_may_continue() {
    let kubelet = kubelet();
    let ark = Ark::new();

    // Continue: a warning, and the backup completes.
    let relaxed = kubelet.namespace("hooks-continue");
    let ns = relaxed.name.as_str();
    kubelet.answer(
        &format!("warm-cache {ns}"),
        Answer { stderr: "cache busy\n".into(), exit_code: 3, ..Answer::default() },
    );
    kubelet.create_pod(
        ns,
        "cache",
        &["redis"],
        &[],
        &[(&format!("{PRE}command"), &format!("[\"warm-cache\", \"{ns}\"]")), (&format!("{PRE}on-error"), "Continue")],
        true,
    );
    let name = unique("continue");
    let out = ark.run(&["backup", "create", &name, "-n", ns]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let expected = format!(
        "pre hook [\"warm-cache\",\"{ns}\"] in pod {ns}/cache, container redis: exit status 3 (onError: Continue)"
    );
    assert!(stderr(&out).contains(&format!("warning: {expected}")), "{}", stderr(&out));
    let record = backup_json(&ark, &name, false);
    assert_eq!(record["phase"], "Completed");
    assert!(record["warnings"].as_array().unwrap().contains(&Value::from(expected)), "{record}");
    assert_eq!(record["hooks"][0]["stderr"], "cache busy\n");

    // Fail (the default): the pre hook's failure means nothing is backed up, the post hook still
    // runs, and the record and log say why.
    let strict = kubelet.namespace("hooks-fail");
    let ns = strict.name.as_str();
    kubelet.answer(&format!("freeze {ns}"), Answer { stdout: "disk busy\n".into(), exit_code: 2, ..Answer::default() });
    kubelet.create_pod(
        ns,
        "db",
        &["db"],
        &[],
        &[
            (&format!("{PRE}command"), &format!("[\"freeze\", \"{ns}\"]")),
            (&format!("{POST}command"), &format!("[\"thaw\", \"{ns}\"]")),
        ],
        true,
    );
    let name = unique("fail");
    let out = ark.run(&["backup", "create", &name, "-n", ns]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let reason = format!("pre hook [\"freeze\",\"{ns}\"] in pod {ns}/db, container db: exit status 2");
    assert!(stdout(&out).contains(&format!("Failure: {reason}")), "{}", stdout(&out));
    assert_eq!(
        summary(&kubelet.calls(ns)),
        [call("db", "db", &format!("freeze {ns}")), call("db", "db", &format!("thaw {ns}"))]
    );
    let record = backup_json(&ark, &name, true);
    assert_eq!((record["phase"].as_str(), record["failureReason"].as_str()), (Some("Failed"), Some(reason.as_str())));
    assert_eq!(record["itemsBackedUp"], 0);
    let dir = ark.home().join(format!("data/ark/backups/backups/{name}"));
    assert!(dir.join("ark-backup.json").is_file() && !dir.join(format!("{name}.tar.gz")).exists());
    let log = ark.ok(&["backup", "logs", &name]);
    assert!(log.contains("a pre hook failed: nothing is backed up") && log.contains("disk busy"), "{log}");
    assert!(log.contains(&format!("ran thaw {ns}")), "the post hook's output: {log}");
    let details = ark.ok(&["backup", "describe", &name, "--details"]);
    assert!(details.contains("exit status 2 in ") && details.contains("(onError: Fail)"), "{details}");

    // A failing post hook fails a backup whose archive was written.
    kubelet.answer(&format!("freeze {ns}"), Answer::default());
    kubelet.answer(&format!("thaw {ns}"), Answer { exit_code: 1, ..Answer::default() });
    let name = unique("fail-post");
    let out = ark.run(&["backup", "create", &name, "-n", ns, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["phase"], "Failed");
    let reason = record["failureReason"].as_str().unwrap();
    assert_eq!(reason, format!("post hook [\"thaw\",\"{ns}\"] in pod {ns}/db, container db: exit status 1"));
    assert!(record["itemsBackedUp"].as_u64().unwrap() > 0, "the archive was written: {record}");
}

#[test]
fn a_hook_over_its_timeout_is_cancelled_and_fails_the_backup() {
    let kubelet = kubelet();
    let namespace = kubelet.namespace("hooks-timeout");
    let ns = namespace.name.as_str();
    kubelet.answer(&format!("slow {ns}"), Answer { delay: Duration::from_secs(6), ..Answer::default() });
    kubelet.create_pod(
        ns,
        "db",
        &["db"],
        &[],
        &[
            (&format!("{PRE}command"), &format!("[\"slow\", \"{ns}\"]")),
            (&format!("{PRE}timeout"), "1s"),
            (&format!("{POST}command"), &format!("[\"after\", \"{ns}\"]")),
        ],
        true,
    );
    let ark = Ark::new();
    let name = unique("timeout");
    let started = std::time::Instant::now();
    let out = ark.run(&["backup", "create", &name, "-n", ns, "-o", "json"]);
    assert!(started.elapsed() < Duration::from_secs(6), "ark did not wait for the slow command");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["phase"], "Failed");
    assert_eq!(
        record["failureReason"],
        format!("pre hook [\"slow\",\"{ns}\"] in pod {ns}/db, container db: timed out after 1s")
    );
    let duration = record["hooks"][0]["duration"].as_str().unwrap();
    assert!(duration.starts_with("1.") || duration == "1s", "{duration}");
    assert_eq!(record["hooks"][1]["phase"], "post");
    assert_eq!(record["hooks"][1]["exitCode"], 0, "the post hook still ran");

    // Giving up reached the kubelet, before the command would have ended: the apiserver reset
    // the SPDY streams (current) or closed the WebSocket it passed through (1.20).
    let abandoned = loop {
        let calls = kubelet.calls(ns);
        if let Some(why) = calls[0].abandoned.clone() {
            break why;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the kubelet never saw the exec cancelled: {calls:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(abandoned.contains("RST_STREAM") || abandoned.contains("connection"), "{abandoned}");
}

#[test]
fn pods_that_are_not_running_are_skipped_with_a_warning() {
    let kubelet = kubelet();
    let namespace = kubelet.namespace("hooks-pending");
    let ns = namespace.name.as_str();
    let key = format!("{PRE}command");
    let hook = [(key.as_str(), "/bin/sync")];
    kubelet.create_pod(ns, "waiting", &["app"], &[], &hook, false);
    kubelet.create_pod(ns, "serving", &["app"], &[], &hook, true);
    let ark = Ark::new();
    let name = unique("pending");
    let out = ark.run(&["backup", "create", &name, "-n", ns]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let warning = format!("pod {ns}/waiting is Pending, not Running: its hooks do not run");
    assert!(stderr(&out).contains(&format!("warning: {warning}")), "{}", stderr(&out));
    assert_eq!(summary(&kubelet.calls(ns)), [call("serving", "app", "/bin/sync")]);
    let record = backup_json(&ark, &name, false);
    assert_eq!(record["phase"], "Completed");
    assert!(record["warnings"].as_array().unwrap().contains(&Value::from(warning.as_str())), "{record}");
    assert!(ark.ok(&["backup", "logs", &name]).contains(&format!("warn  {warning}")), "warning logged");
}

#[test]
fn a_hooks_file_selects_pods_by_label_and_their_annotations_take_precedence() {
    let kubelet = kubelet();
    let namespace = kubelet.namespace("hooks-file");
    let ns = namespace.name.as_str();
    kubelet.create_pod(ns, "db-0", &["app", "sidecar"], &[("app", "db")], &[], true);
    kubelet.create_pod(
        ns,
        "db-1",
        &["app", "sidecar"],
        &[("app", "db")],
        &[(&format!("{PRE}command"), &format!("own-flush {ns}"))],
        true,
    );
    kubelet.create_pod(ns, "web-0", &["app"], &[("app", "web")], &[], true);
    let ark = Ark::new();
    let file = ark.home().join("hooks.yaml");
    std::fs::write(
        &file,
        format!(
            "resources:\n  - name: quiesce-db\n    includedNamespaces: [{ns}]\n    labelSelector:\n      matchLabels: {{app: db}}\n    pre:\n      - exec: {{container: sidecar, command: [quiesce, {ns}], timeout: 10s}}\n    post:\n      - exec:\n          container: sidecar\n          command: [resume, {ns}]\n          onError: Continue\n"
        ),
    )
    .unwrap();
    let name = unique("file");
    let out = ark.run(&["backup", "create", &name, "-n", ns, "--hooks", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let mut calls = summary(&kubelet.calls(ns));
    calls.sort();
    assert_eq!(
        calls,
        [
            call("db-0", "sidecar", &format!("quiesce {ns}")),
            call("db-0", "sidecar", &format!("resume {ns}")),
            call("db-1", "app", &format!("own-flush {ns}")),
            call("db-1", "sidecar", &format!("resume {ns}")),
        ],
        "web-0 has no hooks; db-1's own pre hook replaces the file's, its post hook comes from the file"
    );
    let record = backup_json(&ark, &name, false);
    assert_eq!(record["phase"], "Completed");
    let spec = &record["spec"]["hooks"][0];
    assert_eq!((spec["name"].as_str(), spec["labelSelector"].as_str()), (Some("quiesce-db"), Some("app=db")));
    assert_eq!(spec["post"][0]["exec"]["onError"], "Continue");
    let sources: Vec<(&str, &str, Option<&str>)> = record["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["pod"].as_str().unwrap(), h["phase"].as_str().unwrap(), h["hookSpec"].as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("db-0", "pre", Some("quiesce-db")),
            ("db-1", "pre", None),
            ("db-0", "post", Some("quiesce-db")),
            ("db-1", "post", Some("quiesce-db"))
        ]
    );
}

#[test]
fn a_bad_hooks_file_is_refused_before_anything_is_written() {
    let ark = Ark::new();
    let file = ark.home().join("hooks.yaml");
    let path = file.to_str().unwrap();
    let cases = [
        ("resources:\n  - name: a\n    pre:\n      - exec: {command: [x], timout: 5s}\n", "unknown field `timout`"),
        (
            "resources:\n  - name: a\n    pre:\n      - exec: {command: []}\n",
            "resources[0] (\"a\"): pre[0]: the command is empty",
        ),
        (
            "resources:\n  - name: a\n    labelSelector: \"app in db\"\n    pre: [{exec: {command: [x]}}]\n",
            "invalid label selector",
        ),
    ];
    for (text, problem) in cases {
        std::fs::write(&file, text).unwrap();
        let out = ark.run(&["backup", "create", "never", "--hooks", path]);
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(message.contains(&format!("invalid hooks file {path}: ")) && message.contains(problem), "{message}");
    }
    let out = ark.run(&["backup", "create", "never", "--hooks", "/nonexistent/hooks.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("read hooks file /nonexistent/hooks.yaml"), "{}", stderr(&out));
    assert!(!ark.home().join("data/ark/backups/backups/never").exists(), "nothing written");
}
