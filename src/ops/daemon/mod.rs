//! The daemon: what Ark's in-cluster server did in the background, from a bastion host. Until it
//! is cancelled it runs due schedules, expires backups past their TTL and syncs the cache, each
//! on its own period, and reports every action as an event the CLI logs.
//!
//! One daemon per state file (it holds the daemon lock). It re-reads the state file whenever it
//! changes, so `ark schedule create|pause|delete` take effect while it runs. Each run is written
//! to the state file before its backup starts, so a daemon killed mid-backup restarts knowing
//! which backup was in flight, marks that backup's record Failed, and goes on from the next cron
//! time. Runs of one schedule never overlap. On cancellation (SIGTERM, Ctrl-C) the running
//! backups are interrupted the way `backup create` is (a backup that has written its record ends
//! Failed with reason "interrupted"; one that had written nothing stops), and what became of each
//! is recorded before the daemon returns.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

mod runs;

use runs::{RunOutcome, finish_run, record_run_start, recover_abandoned_runs, run_backup};

use super::describe;
use super::gc::{self, GcReport};
use super::sync::{self, LocationChanges};
use crate::cluster::KubeTarget;
use crate::config::{Config, Dirs};
use crate::model::{BackupPhase, ResourceName, ScheduleRecord};
use crate::state::{DaemonLock, Fingerprint, State, StateError, StateFile};

/// Where time comes from, so the loop can be driven by a fixed clock in tests.
pub(crate) trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DaemonSettings {
    /// Sync only: no schedules, no garbage collection.
    pub(crate) restore_only: bool,
    pub(crate) sync_interval: Duration,
    pub(crate) gc_interval: Duration,
    /// How often to look at the schedules and the state file.
    pub(crate) tick: Duration,
}

/// Where the daemon finds its state, its config and the cluster.
#[derive(Debug, Clone)]
pub(crate) struct DaemonEnv {
    pub(crate) state: StateFile,
    pub(crate) config_path: PathBuf,
    pub(crate) dirs: Dirs,
    pub(crate) kube: KubeTarget,
}

/// What the daemon does, as it does it.
#[derive(Debug, Clone)]
pub(crate) enum DaemonEvent {
    Started {
        state: PathBuf,
        schedules: usize,
        paused: usize,
        restore_only: bool,
    },
    /// The state file changed under the daemon: what changed in the schedules.
    SchedulesChanged {
        added: Vec<String>,
        removed: Vec<String>,
        paused: Vec<String>,
        unpaused: Vec<String>,
    },
    BackupStarted {
        schedule: String,
        backup: String,
    },
    BackupWarning {
        backup: String,
        message: String,
    },
    BackupFinished {
        schedule: String,
        backup: String,
        phase: BackupPhase,
        reason: Option<String>,
    },
    /// A backup a previous daemon left InProgress, now marked as what it is.
    Recovered {
        schedule: String,
        backup: String,
        phase: BackupPhase,
    },
    Synced(LocationChanges),
    Collected(GcReport),
    /// Something that went wrong and that the daemon lives through.
    Problem(String),
    Stopping {
        running: usize,
    },
    Stopped,
}

pub(crate) trait DaemonObserver: Send + Sync {
    fn on_event(&self, event: DaemonEvent);
}

/// Runs until `cancel` is cancelled. Fails only when it cannot start: the state file is
/// unreadable or another daemon holds it.
pub(crate) async fn run_daemon(
    env: DaemonEnv,
    settings: DaemonSettings,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn DaemonObserver>,
    cancel: CancellationToken,
) -> Result<(), StateError> {
    let _lock = DaemonLock::acquire(&env.state)?;
    let state = env.state.load()?;
    observer.on_event(DaemonEvent::Started {
        state: env.state.path(),
        schedules: state.schedules.len(),
        paused: state.schedules.iter().filter(|s| s.paused).count(),
        restore_only: settings.restore_only,
    });
    if !settings.restore_only {
        recover_abandoned_runs(&env, &state, clock.now(), observer.as_ref()).await;
    }
    let mut daemon = Daemon {
        seen: env.state.fingerprint(),
        state,
        runs: JoinSet::new(),
        running: HashMap::new(),
        next_sync: clock.now(),
        next_gc: clock.now(),
        env,
        settings,
        observer,
    };
    loop {
        while let Some(joined) = daemon.runs.try_join_next_with_id() {
            daemon.finished(joined);
        }
        daemon.reload();
        let now = clock.now();
        if !daemon.settings.restore_only {
            daemon.start_due(now, &cancel);
        }
        tokio::select! {
            () = daemon.periodic(now) => {}
            () = cancel.cancelled() => break,
        }
        let joined = tokio::select! {
            () = tokio::time::sleep(daemon.settings.tick) => None,
            Some(joined) = daemon.runs.join_next_with_id(), if !daemon.runs.is_empty() => Some(joined),
            () = cancel.cancelled() => break,
        };
        if let Some(joined) = joined {
            daemon.finished(joined);
        }
    }
    // The running backups saw the same cancellation: let them write their records.
    daemon.observer.on_event(DaemonEvent::Stopping { running: daemon.runs.len() });
    while let Some(joined) = daemon.runs.join_next_with_id().await {
        daemon.finished(joined);
    }
    daemon.observer.on_event(DaemonEvent::Stopped);
    Ok(())
}

/// The loop's state: the schedules as last read, the backups running, and when to sync and
/// collect garbage next.
struct Daemon {
    env: DaemonEnv,
    settings: DaemonSettings,
    observer: Arc<dyn DaemonObserver>,
    state: State,
    /// Which version of the state file `state` was read from.
    seen: Option<Fingerprint>,
    runs: JoinSet<RunOutcome>,
    /// The schedule each running backup belongs to.
    running: HashMap<tokio::task::Id, ResourceName>,
    next_sync: DateTime<Utc>,
    next_gc: DateTime<Utc>,
}

impl Daemon {
    /// Reads the state file again when it changed under the daemon (a schedule created,
    /// paused or deleted); one it cannot read leaves the schedules as they were.
    fn reload(&mut self) {
        let fingerprint = self.env.state.fingerprint();
        if fingerprint == self.seen {
            return;
        }
        self.seen = fingerprint;
        match self.env.state.load() {
            Ok(fresh) => self.replace_state(fresh),
            Err(e) => self
                .observer
                .on_event(DaemonEvent::Problem(format!("{}; still running the schedules read before", describe(&e)))),
        }
    }

    fn replace_state(&mut self, fresh: State) {
        report_schedule_changes(&self.state, &fresh, self.observer.as_ref());
        self.state = fresh;
    }

    /// Starts a backup for every schedule due at `now` whose last one is not still running.
    fn start_due(&mut self, now: DateTime<Utc>, cancel: &CancellationToken) {
        let due: Vec<ScheduleRecord> = self
            .state
            .schedules
            .iter()
            .filter(|s| s.is_due(now) && !self.running.values().any(|name| *name == s.name))
            .cloned()
            .collect();
        for schedule in due {
            let Some((backup, spec, fresh)) = record_run_start(&self.env, &schedule, now, self.observer.as_ref())
            else {
                continue;
            };
            self.replace_state(fresh);
            self.observer.on_event(DaemonEvent::BackupStarted {
                schedule: schedule.name.to_string(),
                backup: backup.to_string(),
            });
            let observer = Arc::clone(&self.observer);
            let task =
                run_backup(self.env.clone(), schedule.name.clone(), backup, spec, now, observer, cancel.child_token());
            let handle = self.runs.spawn(task);
            self.running.insert(handle.id(), schedule.name.clone());
        }
    }

    /// Syncs, and collects garbage, when their time has come.
    async fn periodic(&mut self, now: DateTime<Utc>) {
        if now >= self.next_sync {
            self.next_sync = now + self.settings.sync_interval;
            sync_now(&self.env, now, self.observer.as_ref()).await;
        }
        if !self.settings.restore_only && now >= self.next_gc {
            self.next_gc = now + self.settings.gc_interval;
            collect_now(&self.env, now, self.observer.as_ref()).await;
        }
    }

    fn finished(&mut self, joined: Result<(tokio::task::Id, RunOutcome), tokio::task::JoinError>) {
        finish_run(&self.env, joined, &mut self.running, self.observer.as_ref());
    }
}

fn report_schedule_changes(before: &State, after: &State, observer: &dyn DaemonObserver) {
    let names = |s: &State| s.schedules.iter().map(|x| x.name.to_string()).collect::<Vec<_>>();
    let (old, new) = (names(before), names(after));
    let added: Vec<String> = new.iter().filter(|n| !old.contains(n)).cloned().collect();
    let removed: Vec<String> = old.iter().filter(|n| !new.contains(n)).cloned().collect();
    let mut paused = Vec::new();
    let mut unpaused = Vec::new();
    for schedule in &after.schedules {
        match before.schedule(schedule.name.as_str()) {
            Some(was) if !was.paused && schedule.paused => paused.push(schedule.name.to_string()),
            Some(was) if was.paused && !schedule.paused => unpaused.push(schedule.name.to_string()),
            _ => {}
        }
    }
    if !(added.is_empty() && removed.is_empty() && paused.is_empty() && unpaused.is_empty()) {
        observer.on_event(DaemonEvent::SchedulesChanged { added, removed, paused, unpaused });
    }
}

async fn sync_now(env: &DaemonEnv, now: DateTime<Utc>, observer: &dyn DaemonObserver) {
    let result = match Config::load(&env.config_path) {
        Ok(config) => sync::sync_locations(&config, &env.dirs, None, &env.state, now).await.map_err(|e| describe(&e)),
        Err(e) => Err(describe(&e)),
    };
    match result {
        Ok(report) => {
            for changes in report.locations {
                observer.on_event(DaemonEvent::Synced(changes));
            }
        }
        Err(e) => observer.on_event(DaemonEvent::Problem(format!("sync: {e}"))),
    }
}

async fn collect_now(env: &DaemonEnv, now: DateTime<Utc>, observer: &dyn DaemonObserver) {
    let result = match Config::load(&env.config_path) {
        Ok(config) => {
            gc::collect_locations(&config, &env.dirs, None, &env.state, now, false).await.map_err(|e| describe(&e))
        }
        Err(e) => Err(describe(&e)),
    };
    match result {
        Ok(reports) => {
            for report in reports {
                observer.on_event(DaemonEvent::Collected(report));
            }
        }
        Err(e) => observer.on_event(DaemonEvent::Problem(format!("gc: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::runs::INTERRUPTED_BY_RESTART;
    use super::*;
    use crate::model::{BackupRecord, LastBackup};
    use crate::store::{Bucket, BucketLayout};
    use std::sync::Mutex;

    struct FixedClock(Mutex<DateTime<Utc>>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    #[derive(Default)]
    struct Events(Mutex<Vec<DaemonEvent>>);

    impl DaemonObserver for Events {
        fn on_event(&self, event: DaemonEvent) {
            self.0.lock().unwrap().push(event);
        }
    }

    impl Events {
        fn finished(&self) -> Vec<String> {
            let events = self.0.lock().unwrap();
            events
                .iter()
                .filter_map(|e| match e {
                    DaemonEvent::BackupFinished { backup, .. } => Some(backup.clone()),
                    _ => None,
                })
                .collect()
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    /// A daemon whose cluster is unreachable (a kubeconfig that does not exist), so each run
    /// fails at once without a network: what is tested is when runs happen and what is recorded.
    fn env(dir: &std::path::Path) -> DaemonEnv {
        let dirs = Dirs { config: dir.join("config"), data: dir.join("data"), state: dir.join("state") };
        DaemonEnv {
            state: StateFile::in_dir(&dirs.state),
            config_path: dirs.config_file(),
            dirs,
            kube: KubeTarget { kubeconfig: Some(dir.join("no-kubeconfig")), context: None },
        }
    }

    fn add_schedule(env: &DaemonEnv, name: &str, expr: &str, created: &str, paused: bool) {
        env.state
            .update(|s| {
                s.schedules.push(
                    serde_json::from_value(serde_json::json!({
                        "name": name, "schedule": expr, "created": created, "paused": paused,
                        "template": {"ttl": "720h", "storageLocation": "default"},
                    }))
                    .unwrap(),
                );
                Ok::<_, StateError>(())
            })
            .unwrap();
    }

    async fn wait_for(events: &Events, count: usize) {
        for _ in 0..500 {
            if events.finished().len() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{count} runs did not finish: {:?}", events.0.lock().unwrap());
    }

    #[tokio::test]
    async fn runs_due_schedules_once_per_due_time_by_the_clock_and_never_paused_ones() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        add_schedule(&env, "nightly", "0 2 * * *", "2026-11-20T00:00:00Z", false);
        add_schedule(&env, "held", "@every 1h", "2026-11-20T00:00:00Z", true);
        let clock = Arc::new(FixedClock(Mutex::new(at("2026-11-24T13:00:00Z"))));
        let events = Arc::new(Events::default());
        let settings = DaemonSettings {
            restore_only: false,
            sync_interval: Duration::from_secs(3600),
            gc_interval: Duration::from_secs(3600),
            tick: Duration::from_millis(5),
        };
        let cancel = CancellationToken::new();
        let daemon = tokio::spawn(run_daemon(env.clone(), settings, clock.clone(), events.clone(), cancel.clone()));
        // First look: the new schedule runs once, however long ago it was created.
        wait_for(&events, 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(events.finished(), ["nightly-20261124130000"]);
        let nightly = env.state.load().unwrap().schedule("nightly").unwrap().clone();
        assert_eq!(nightly.last_run, Some(at("2026-11-24T13:00:00Z")));
        let last = nightly.last_backup.unwrap();
        assert_eq!(last.phase, BackupPhase::Failed);
        let reason = last.failure_reason.unwrap();
        assert!(reason.contains("no-kubeconfig"), "{reason}");
        // Nothing more until the next cron time; then exactly one run.
        *clock.0.lock().unwrap() = at("2026-11-25T01:59:59Z");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(events.finished().len(), 1);
        *clock.0.lock().unwrap() = at("2026-11-25T02:00:00Z");
        wait_for(&events, 2).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(events.finished(), ["nightly-20261124130000", "nightly-20261125020000"]);
        cancel.cancel();
        daemon.await.unwrap().unwrap();
        let held = env.state.load().unwrap().schedule("held").unwrap().clone();
        assert_eq!(held.last_run, None, "a paused schedule never runs");
    }

    #[tokio::test]
    async fn restore_only_runs_no_schedule_and_a_second_daemon_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        add_schedule(&env, "nightly", "@every 1s", "2026-11-20T00:00:00Z", false);
        let clock = Arc::new(FixedClock(Mutex::new(at("2026-11-24T13:00:00Z"))));
        let events = Arc::new(Events::default());
        let settings = DaemonSettings {
            restore_only: true,
            sync_interval: Duration::from_secs(3600),
            gc_interval: Duration::from_secs(3600),
            tick: Duration::from_millis(5),
        };
        let cancel = CancellationToken::new();
        let daemon = tokio::spawn(run_daemon(env.clone(), settings.clone(), clock, events.clone(), cancel.clone()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let second = run_daemon(
            env.clone(),
            settings,
            Arc::new(SystemClock),
            Arc::new(Events::default()),
            CancellationToken::new(),
        )
        .await;
        assert!(matches!(second, Err(StateError::DaemonRunning { .. })), "{second:?}");
        cancel.cancel();
        daemon.await.unwrap().unwrap();
        assert!(events.finished().is_empty());
        assert_eq!(env.state.load().unwrap().schedule("nightly").unwrap().last_run, None);
        let synced = events.0.lock().unwrap().iter().any(|e| matches!(e, DaemonEvent::Synced(_)));
        assert!(synced, "restore-only still syncs");
    }

    #[tokio::test]
    async fn a_run_left_in_progress_by_a_dead_daemon_is_marked_failed_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        add_schedule(&env, "nightly", "0 2 * * *", "2026-11-20T00:00:00Z", false);
        let backup = ResourceName::parse("nightly-20261124020000").unwrap();
        let started = at("2026-11-24T02:00:00Z");
        env.state
            .update(|s| {
                let n = s.schedule_mut("nightly").unwrap();
                n.last_run = Some(started);
                n.last_backup =
                    Some(LastBackup { name: backup.clone(), phase: BackupPhase::InProgress, failure_reason: None });
                Ok::<_, StateError>(())
            })
            .unwrap();
        // What the killed run had written: its first, InProgress record.
        let config = Config::default();
        let (name, location) = config.storage_location(None, &env.dirs).unwrap();
        let bucket = Bucket::open(&name, &location).await.unwrap();
        let spec = env.state.load().unwrap().schedule("nightly").unwrap().backup_spec();
        bucket
            .put_json(&BucketLayout::backup_record(&backup), &BackupRecord::new(backup.clone(), spec, started, "1.1.0"))
            .await
            .unwrap();

        let clock = Arc::new(FixedClock(Mutex::new(at("2026-11-24T13:00:00Z"))));
        let events = Arc::new(Events::default());
        let settings = DaemonSettings {
            restore_only: false,
            sync_interval: Duration::from_secs(3600),
            gc_interval: Duration::from_secs(3600),
            tick: Duration::from_millis(5),
        };
        let cancel = CancellationToken::new();
        let daemon = tokio::spawn(run_daemon(env.clone(), settings, clock, events.clone(), cancel.clone()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
        daemon.await.unwrap().unwrap();
        let record: BackupRecord = bucket.get_json(&BucketLayout::backup_record(&backup)).await.unwrap();
        assert_eq!(record.phase, BackupPhase::Failed, "{:?}", events.0.lock().unwrap());
        assert_eq!(record.failure_reason.as_deref(), Some(INTERRUPTED_BY_RESTART));
        let last = env.state.load().unwrap().schedule("nightly").unwrap().last_backup.clone().unwrap();
        assert_eq!(last.phase, BackupPhase::Failed);
        // The interrupted run was the 02:00 run: the next one is tomorrow at 02:00, not now.
        assert!(events.finished().is_empty());
    }
}
