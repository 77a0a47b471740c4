//! Backup hooks: find the running pods a backup covers that have hooks (in their annotations,
//! or from entries of the backup's hooks file), run their pre hooks before anything is listed
//! and their post hooks after the backup is written or failed, and record what each printed
//! and how it ended.
//!
//! A pod's annotations take precedence, phase by phase: a pod that declares a pre hook in its
//! annotations runs that one and no pre hook of the hooks file. Pods run their hooks at once
//! (bounded by `tuning.hookConcurrency`), each pod its own in order; a failing `Fail` hook
//! ends that pod's list for the phase. Post hooks run for the same pods as pre hooks, whatever
//! happened in between: a database must not stay frozen. Problems finding the pods are
//! reported through the backup's `RunReporter`, and each hook's result goes into the record.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use serde_json::value::RawValue;

use super::events::{BackupEvent, BackupObserver, RunReporter};
use crate::cluster::{Connection, ExecRequest, Pager, exec};
use crate::config::Tuning;
use crate::model::{
    BackupRecord, BackupSpec, DEFAULT_HOOK_TIMEOUT, ExecHook, HookErrorMode, HookPhase, HookResult, HumanDuration,
    PodHookSpec, ResourceType, annotation_hook, is_excluded_by_label,
};
use crate::ops::run_log::RunLog;

/// What a hook prints is kept up to this many bytes per stream, in the log and the record.
const KEEP_OUTPUT_BYTES: usize = 4096;

/// A hook ready to run in one pod, or the reason it cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlannedHook {
    container: String,
    hook: ExecHook,
    /// The hooks file entry it came from; None = the pod's annotations.
    spec: Option<String>,
    /// Why it cannot run (a bad annotation, a missing or stopped container); it fails at once.
    problem: Option<String>,
}

/// The hooks of one running pod.
#[derive(Debug, PartialEq, Eq)]
struct PodPlan {
    namespace: String,
    name: String,
    pre: Vec<PlannedHook>,
    post: Vec<PlannedHook>,
}

impl PodPlan {
    fn hooks(&self, phase: HookPhase) -> &[PlannedHook] {
        match phase {
            HookPhase::Pre => &self.pre,
            HookPhase::Post => &self.post,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum PodDecision {
    NoHooks,
    /// Hooks declared, but the pod is not Running (its phase).
    NotRunning(String),
    Run(PodPlan),
}

/// Which hooks `pod` runs: per phase, its annotations' hook, else those of every hooks file
/// entry that selects it, in file order.
fn plan_pod(pod: &Pod, specs: &[PodHookSpec]) -> PodDecision {
    let meta = &pod.metadata;
    let namespace = meta.namespace.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let no_map = BTreeMap::new();
    let annotations = meta.annotations.as_ref().unwrap_or(&no_map);
    let labels = meta.labels.as_ref().unwrap_or(&no_map);
    let containers: Vec<&str> = pod.spec.iter().flat_map(|s| &s.containers).map(|c| c.name.as_str()).collect();
    let running = |container: &str| {
        pod.status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .any(|s| s.name == container && s.state.as_ref().is_some_and(|state| state.running.is_some()))
    };
    let plan = |hook: ExecHook, spec: Option<String>, problem: Option<String>| {
        let container = hook.container.clone().or_else(|| containers.first().map(|c| (*c).to_owned()));
        let problem = problem.or_else(|| match &container {
            None => Some("the pod has no containers".to_owned()),
            Some(c) if !containers.contains(&c.as_str()) => Some(format!("the pod has no container {c}")),
            Some(c) if !running(c) => Some(format!("container {c} is not running")),
            Some(_) => None,
        });
        PlannedHook { container: container.unwrap_or_default(), hook, spec, problem }
    };
    let hooks = |phase: HookPhase| match annotation_hook(annotations, phase) {
        Some(Ok(hook)) => vec![plan(hook, None, None)],
        Some(Err(problem)) => {
            // Run nothing, but say which command could not be read, and fail as Fail would.
            let key = format!("{}command", phase.annotation_prefix());
            let hook = ExecHook {
                container: annotations.get(&format!("{}container", phase.annotation_prefix())).cloned(),
                command: vec![annotations.get(&key).cloned().unwrap_or_default()],
                on_error: HookErrorMode::Fail,
                timeout: HumanDuration(DEFAULT_HOOK_TIMEOUT),
            };
            vec![plan(hook, None, Some(problem))]
        }
        None => specs
            .iter()
            .filter(|spec| spec.selects(&namespace, labels))
            .flat_map(|spec| spec.hooks(phase).map(|hook| plan(hook.clone(), Some(spec.name.clone()), None)))
            .collect(),
    };
    let (pre, post) = (hooks(HookPhase::Pre), hooks(HookPhase::Post));
    if pre.is_empty() && post.is_empty() {
        return PodDecision::NoHooks;
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".to_owned());
    if phase != "Running" {
        return PodDecision::NotRunning(phase);
    }
    PodDecision::Run(PodPlan { namespace, name, pre, post })
}

/// What one listed pod means for the hooks: nothing (the backup leaves it out, or it has no
/// hooks), hooks to run, or a warning saying why its hooks do not run.
fn pod_hooks(raw: &RawValue, spec: &BackupSpec) -> Option<Result<PodPlan, String>> {
    let value = serde_json::from_str::<serde_json::Value>(raw.get()).ok()?;
    let meta = &value["metadata"];
    let (namespace, name) = (meta["namespace"].as_str().unwrap_or_default(), meta["name"].as_str().unwrap_or_default());
    let scope = &spec.scope;
    if !scope.takes_namespace(namespace) || is_excluded_by_label(&value) || !scope.labels.matches_object(&value) {
        return None;
    }
    let id = format!("{namespace}/{name}");
    let pod = match serde_json::from_value::<Pod>(value) {
        Ok(pod) => pod,
        Err(e) => return Some(Err(format!("pod {id} could not be decoded ({e}): its hooks do not run"))),
    };
    match plan_pod(&pod, &spec.hooks) {
        PodDecision::NoHooks => None,
        PodDecision::NotRunning(phase) => Some(Err(format!("pod {id} is {phase}, not Running: its hooks do not run"))),
        PodDecision::Run(plan) => Some(Ok(plan)),
    }
}

/// The hooks of one backup: the pods found before it started, and every result so far.
pub(super) struct HookRun<'a> {
    conn: &'a Connection,
    reporter: RunReporter<'a>,
    concurrency: usize,
    pods: Vec<PodPlan>,
    results: Vec<HookResult>,
}

impl<'a> HookRun<'a> {
    /// Finds the pods the backup covers that have hooks. `pods` is the pod type when the
    /// backup includes pods: hooks run only for pods it backs up. Problems listing pods become
    /// errors of the backup, and pods that are not running are skipped with a warning.
    pub(super) async fn prepare(
        conn: &'a Connection,
        spec: &BackupSpec,
        pods: Option<&ResourceType>,
        tuning: &Tuning,
        reporter: RunReporter<'a>,
    ) -> Self {
        let mut run =
            Self { conn, reporter, concurrency: tuning.hook_concurrency, pods: Vec::new(), results: Vec::new() };
        let Some(pods) = pods else {
            if !spec.hooks.is_empty() {
                run.reporter.warn("the backup leaves out pods, so no hooks run".to_owned());
            }
            return run;
        };
        let namespaces: Vec<Option<String>> = match spec.scope.namespaces.literal_includes() {
            Some(names) => names.into_iter().map(Some).collect(),
            None => vec![None],
        };
        let mut skipped = Vec::new();
        for namespace in namespaces {
            let mut pager = Pager::new(
                &conn.client,
                pods,
                namespace.as_deref(),
                spec.scope.labels.server_side(),
                None,
                tuning.page_size,
            );
            loop {
                let page = match pager.next_page().await {
                    Ok(Some(page)) => page,
                    Ok(None) => break,
                    Err(e) => {
                        run.reporter.error(format!("list pods to run their hooks: {e}"));
                        break;
                    }
                };
                for raw in page {
                    match pod_hooks(&raw, spec) {
                        None => {}
                        Some(Ok(plan)) => run.pods.push(plan),
                        Some(Err(warning)) => skipped.push(warning),
                    }
                }
            }
        }
        skipped.sort();
        for warning in skipped {
            run.reporter.warn(warning);
        }
        run.pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let count = |phase| run.pods.iter().map(|p| p.hooks(phase).len()).sum::<usize>();
        if !run.pods.is_empty() {
            run.reporter.log.info(&format!(
                "hooks: {} pre and {} post hooks in {} pods",
                count(HookPhase::Pre),
                count(HookPhase::Post),
                run.pods.len()
            ));
        }
        run
    }

    /// Runs every pod's hooks of `phase`; true when a `Fail` hook failed.
    pub(super) async fn run(&mut self, phase: HookPhase) -> bool {
        let (client, log, observer) = (&self.conn.client, self.reporter.log, self.reporter.observer);
        // The futures are made first (they do nothing until polled) rather than by a closure in
        // the stream: with the closure, rustc cannot prove the backup's future Send for any
        // lifetime of the pods it borrows, and the daemon spawns backups as tasks.
        let runs: Vec<_> = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, pod)| async move { (i, run_pod(client, pod, phase, log, observer).await) })
            .collect();
        let mut per_pod: Vec<(usize, Vec<HookResult>)> =
            futures::stream::iter(runs).buffer_unordered(self.concurrency).collect().await;
        per_pod.sort_by_key(|(i, _)| *i);
        let results: Vec<HookResult> = per_pod.into_iter().flat_map(|(_, results)| results).collect();
        let failed = results.iter().any(|r| !r.succeeded() && r.on_error == HookErrorMode::Fail);
        self.results.extend(results);
        failed
    }

    /// Puts what the hooks did into `record` (failed `Continue` hooks and skipped pods as
    /// warnings) and says how failed `Fail` hooks fail the backup, if any did.
    pub(super) fn finish(mut self, record: &mut BackupRecord) -> Option<String> {
        self.reporter.record_into(record);
        let mut failures = Vec::new();
        for result in self.results.iter().filter(|r| !r.succeeded()) {
            let message = format!("{}: {}", result.hook_name(), result.outcome());
            match result.on_error {
                HookErrorMode::Fail => failures.push(message),
                HookErrorMode::Continue => record.warnings.push(format!("{message} (onError: Continue)")),
            }
        }
        record.hooks = self.results;
        match failures.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            [first, rest @ ..] => Some(format!("{first} (and {} more failed hooks)", rest.len())),
        }
    }
}

/// Runs one pod's hooks of `phase` in order, up to the first failing `Fail` hook.
async fn run_pod(
    client: &kube::Client,
    pod: &PodPlan,
    phase: HookPhase,
    log: &RunLog,
    observer: &dyn BackupObserver,
) -> Vec<HookResult> {
    let hooks = pod.hooks(phase);
    let mut results = Vec::new();
    for (i, planned) in hooks.iter().enumerate() {
        let result = run_hook(client, pod, planned, phase).await;
        report(&result, log, observer);
        let stop = !result.succeeded() && result.on_error == HookErrorMode::Fail;
        results.push(result);
        if stop && i + 1 < hooks.len() {
            log.warn(&format!(
                "skipped the {} {phase} hooks after it in pod {}/{}",
                hooks.len() - i - 1,
                pod.namespace,
                pod.name
            ));
            break;
        }
    }
    results
}

async fn run_hook(client: &kube::Client, pod: &PodPlan, planned: &PlannedHook, phase: HookPhase) -> HookResult {
    let started = Utc::now();
    let clock = Instant::now();
    let mut result = HookResult {
        phase,
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        container: planned.container.clone(),
        command: planned.hook.command.clone(),
        hook_spec: planned.spec.clone(),
        on_error: planned.hook.on_error,
        started,
        duration: HumanDuration(std::time::Duration::ZERO),
        exit_code: None,
        error: planned.problem.clone(),
        stdout: String::new(),
        stderr: String::new(),
    };
    if planned.problem.is_none() {
        let request = ExecRequest {
            namespace: &pod.namespace,
            pod: &pod.name,
            container: &planned.container,
            command: &planned.hook.command,
            timeout: planned.hook.timeout.0,
            keep_bytes: KEEP_OUTPUT_BYTES,
        };
        match exec(client, &request).await {
            Ok(output) => {
                result.exit_code = Some(output.exit_code);
                result.stdout = output.stdout;
                result.stderr = output.stderr;
            }
            Err(e) => result.error = Some(e.to_string()),
        }
    }
    result.duration = HumanDuration(clock.elapsed());
    result
}

/// One line per hook in the log (error for a failed `Fail` hook, warning for `Continue`), its
/// output indented under it; and an event for the CLI.
fn report(result: &HookResult, log: &RunLog, observer: &dyn BackupObserver) {
    let line = format!("{}: {} in {}", result.hook_name(), result.outcome(), result.duration);
    match (result.succeeded(), result.on_error) {
        (true, _) => log.info(&line),
        (false, HookErrorMode::Continue) => log.warn(&format!("{line} (onError: Continue)")),
        (false, HookErrorMode::Fail) => log.error(&line),
    }
    for (stream, text) in [("stdout", &result.stdout), ("stderr", &result.stderr)] {
        if !text.is_empty() {
            log.info(&format!("  {stream}: {}", text.trim_end().replace('\n', "\n          ")));
        }
    }
    observer.on_event(BackupEvent::Hook(Box::new(result.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_hooks_file;

    fn pod(annotations: serde_json::Value, labels: serde_json::Value, phase: &str, running: &[&str]) -> Pod {
        let statuses: Vec<serde_json::Value> = running
            .iter()
            .map(|name| {
                serde_json::json!({"name": name, "ready": true, "restartCount": 0, "image": "x", "imageID": "",
                    "state": {"running": {}}})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "db-0", "namespace": "shop", "annotations": annotations, "labels": labels},
            "spec": {"containers": [{"name": "db"}, {"name": "sidecar"}]},
            "status": {"phase": phase, "containerStatuses": statuses}
        }))
        .unwrap()
    }

    fn specs() -> Vec<PodHookSpec> {
        parse_hooks_file(
            "resources:\n  - name: freeze\n    labelSelector: app=db\n    pre:\n      - exec: {command: [freeze]}\n      - exec: {command: [sync], container: sidecar, onError: Continue}\n    post:\n      - exec: {command: [thaw]}\n  - name: web\n    labelSelector: app=web\n    pre: [{exec: {command: [nope]}}]\n",
        )
        .unwrap()
    }

    fn commands(plan: &PodDecision, phase: HookPhase) -> Vec<(String, String, Option<String>)> {
        let PodDecision::Run(plan) = plan else { panic!("{plan:?}") };
        plan.hooks(phase).iter().map(|h| (h.container.clone(), h.hook.command.join(" "), h.problem.clone())).collect()
    }

    #[test]
    fn hooks_file_entries_apply_to_the_pods_they_select_in_order() {
        let db = pod(serde_json::json!({}), serde_json::json!({"app": "db"}), "Running", &["db", "sidecar"]);
        let plan = plan_pod(&db, &specs());
        assert_eq!(
            commands(&plan, HookPhase::Pre),
            [("db".into(), "freeze".into(), None), ("sidecar".into(), "sync".into(), None)]
        );
        assert_eq!(commands(&plan, HookPhase::Post), [("db".into(), "thaw".into(), None)]);
        let other = pod(serde_json::json!({}), serde_json::json!({"app": "cache"}), "Running", &["db"]);
        assert_eq!(plan_pod(&other, &specs()), PodDecision::NoHooks);
    }

    #[test]
    fn annotations_take_precedence_phase_by_phase() {
        let annotated = pod(
            serde_json::json!({"pre.hook.backup.ark.heptio.com/command": "[\"/bin/flush\"]",
                "pre.hook.backup.ark.heptio.com/container": "sidecar"}),
            serde_json::json!({"app": "db"}),
            "Running",
            &["db", "sidecar"],
        );
        let plan = plan_pod(&annotated, &specs());
        assert_eq!(commands(&plan, HookPhase::Pre), [("sidecar".into(), "/bin/flush".into(), None)]);
        assert_eq!(commands(&plan, HookPhase::Post), [("db".into(), "thaw".into(), None)], "no post annotation");
    }

    #[test]
    fn pods_that_cannot_run_a_hook_say_why() {
        let pending = pod(serde_json::json!({}), serde_json::json!({"app": "db"}), "Pending", &[]);
        assert_eq!(plan_pod(&pending, &specs()), PodDecision::NotRunning("Pending".into()));
        let no_hooks_pending = pod(serde_json::json!({}), serde_json::json!({}), "Pending", &[]);
        assert_eq!(plan_pod(&no_hooks_pending, &specs()), PodDecision::NoHooks, "no warning without hooks");

        let sidecar_down = pod(serde_json::json!({}), serde_json::json!({"app": "db"}), "Running", &["db"]);
        let plan = plan_pod(&sidecar_down, &specs());
        assert_eq!(commands(&plan, HookPhase::Pre)[1].2.as_deref(), Some("container sidecar is not running"));

        let bad = pod(
            serde_json::json!({"post.hook.backup.ark.heptio.com/command": "[oops",
                "pre.hook.backup.ark.heptio.com/command": "x", "pre.hook.backup.ark.heptio.com/container": "nope"}),
            serde_json::json!({}),
            "Running",
            &["db", "sidecar"],
        );
        let plan = plan_pod(&bad, &[]);
        assert_eq!(commands(&plan, HookPhase::Pre)[0].2.as_deref(), Some("the pod has no container nope"));
        let post = commands(&plan, HookPhase::Post);
        assert_eq!(post[0].1, "[oops");
        assert!(post[0].2.as_deref().unwrap().starts_with("annotation post.hook.backup.ark.heptio.com/command:"));
    }
}
