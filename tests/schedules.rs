//! End-to-end: schedules, `ark daemon` (run as a child process), `ark gc` and `ark sync`, against
//! the real apiserver and moto's S3.

mod support;

use std::io::BufRead;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Ark, bucket_keys, ec2, kubectl, stderr, stdout, unique, xml_values};

/// A namespace with two config maps: something small to back up quickly.
fn small_namespace() -> String {
    let namespace = unique("sched");
    assert!(kubectl(&["create", "namespace", &namespace]).status.success());
    for name in ["one", "two"] {
        let out = kubectl(&["create", "configmap", name, "-n", &namespace, "--from-literal=k=v"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    namespace
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

fn schedule_json(ark: &Ark, name: &str) -> Value {
    let list = json(&ark.run(&["schedule", "get", name, "-o", "json"]));
    list[0].clone()
}

/// Polls `check` until it holds or `timeout` passes.
fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// Backups in the bucket (under the `ark/` prefix add_s3_location uses) whose name starts with
/// `prefix`, each with the keys stored for it.
fn bucket_backups(bucket: &str, prefix: &str) -> Vec<(String, Vec<String>)> {
    let mut backups: Vec<(String, Vec<String>)> = Vec::new();
    for key in bucket_keys(bucket, &format!("ark/backups/{prefix}")) {
        let mut parts = key.split('/').skip(2);
        let (Some(name), Some(file)) = (parts.next(), parts.next()) else { continue };
        match backups.iter_mut().find(|(n, _)| n == name) {
            Some((_, files)) => files.push(file.to_owned()),
            None => backups.push((name.to_owned(), vec![file.to_owned()])),
        }
    }
    backups
}

/// `ark daemon` running as a child process, its stderr collected as it is written.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Daemon {
    fn start(ark: &Ark, args: &[&str]) -> Self {
        let mut child = ark
            .command()
            .arg("daemon")
            .args(["--tick", "200ms"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ark daemon");
        let log = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_log(&self, needle: &str, timeout: Duration) {
        eventually(timeout, &format!("{needle:?} in the daemon's log"), || self.log().contains(needle));
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and waits for the daemon to exit; returns how it exited and its log.
    fn terminate(mut self) -> (ExitStatus, String) {
        self.signal("-TERM");
        let status = self.wait(Duration::from_secs(60));
        (status, self.log())
    }

    fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(200));
                return status;
            }
            assert!(Instant::now() < deadline, "the daemon did not exit within {timeout:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn schedule_create_get_pause_unpause_delete_round_trip() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let created = json(&ark.run(&[
        "schedule",
        "create",
        "nightly",
        "--schedule",
        "0 2 * * *",
        "--timezone",
        "Europe/Berlin",
        "--ttl",
        "72h",
        "-n",
        "shop,shop-db",
        "--skip-first",
        "-o",
        "json",
    ]));
    assert_eq!(created["name"], "nightly");
    assert_eq!(created["schedule"], "0 2 * * *");
    assert_eq!(created["timezone"], "Europe/Berlin");
    assert_eq!(created["status"], "Enabled");
    assert_eq!(created["skipFirst"], true);
    assert_eq!(created["template"]["ttl"], "72h");
    assert_eq!(created["template"]["storageLocation"], "moto");
    assert_eq!(created["template"]["schedule"], "nightly");
    assert_eq!(created["template"]["namespaces"]["include"], serde_json::json!(["shop", "shop-db"]));
    // 02:00 in Berlin is 01:00 or 00:00 UTC.
    let next = created["nextRun"].as_str().unwrap();
    assert!(next.contains("T01:00:00") || next.contains("T00:00:00"), "{next}");

    // Every backup create flag carries over into the schedule's backups, --hooks FILE included.
    let hooks = ark.home().join("hooks.yaml");
    std::fs::write(
        &hooks,
        "resources:\n  - name: quiesce-db\n    includedNamespaces: [shop-db]\n    pre:\n      - exec: {command: [sync]}\n",
    )
    .unwrap();
    let hourly = json(&ark.run(&[
        "schedule",
        "create",
        "hourly",
        "--schedule",
        "@every 1h",
        "--hooks",
        hooks.to_str().unwrap(),
        "-o",
        "json",
    ]));
    assert_eq!(hourly["template"]["hooks"][0]["name"], "quiesce-db", "{hourly}");
    let all = json(&ark.run(&["schedule", "get", "-o", "json"]));
    let names: Vec<&str> = all.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hourly", "nightly"]);
    let table = ark.ok(&["schedule", "get"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("nightly") && l.contains("Enabled") && l.contains("<none>")),
        "{table}"
    );

    let paused = json(&ark.run(&["schedule", "pause", "nightly", "-o", "json"]));
    assert_eq!((paused["paused"].clone(), paused["status"].clone()), (Value::Bool(true), "Paused".into()));
    assert!(paused.get("nextRun").is_none(), "a paused schedule has no next run: {paused}");
    assert_eq!(schedule_json(&ark, "nightly")["status"], "Paused");
    let described: Value =
        serde_yaml::from_slice(&ark.run(&["schedule", "describe", "nightly", "-o", "yaml"]).stdout).unwrap();
    assert_eq!(described["status"], "Paused");
    assert!(described["backups"].as_array().is_some_and(|b| b.is_empty()), "{described}");
    let unpaused = json(&ark.run(&["schedule", "unpause", "nightly", "-o", "json"]));
    assert_eq!(unpaused["paused"], false);

    let deleted = json(&ark.run(&["schedule", "delete", "nightly", "-o", "json"]));
    assert_eq!(deleted["name"], "nightly");
    let left = json(&ark.run(&["schedule", "get", "-o", "json"]));
    assert_eq!(left.as_array().unwrap().len(), 1);
    let out = ark.run(&["schedule", "describe", "nightly"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("schedule nightly not found"), "{}", stderr(&out));

    use std::os::unix::fs::PermissionsExt;
    let state = ark.home().join("state/ark/state.json");
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o600);
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(on_disk["version"], 1);
    assert_eq!(on_disk["schedules"][0]["name"], "hourly");
}

#[test]
fn bad_schedules_are_refused_with_exit_2_and_nothing_written() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let state = ark.home().join("state/ark/state.json");
    let cases: [(&[&str], &str); 9] = [
        (&["bad-cron", "--schedule", "0 2 * *"], "invalid schedule \"0 2 * *\": 4 fields"),
        (&["bad-minute", "--schedule", "61 * * * *"], "61 is out of range 0-59"),
        (&["bad-every", "--schedule", "@every soon"], "invalid duration"),
        (&["bad-macro", "--schedule", "@fortnightly"], "unknown shorthand @fortnightly"),
        (&["Bad_Name", "--schedule", "@daily"], "Bad_Name"),
        (&[&"x".repeat(49), "--schedule", "@daily"], "longer than 48 characters"),
        (&["tz", "--schedule", "@daily", "--timezone", "Mars/Olympus"], "unknown time zone \"Mars/Olympus\""),
        (&["nowhere", "--schedule", "@daily", "--storage-location", "nope"], "storage location \"nope\""),
        (&["sel", "--schedule", "@daily", "-l", "a in (b"], "invalid label selector"),
    ];
    for (args, needle) in cases {
        let mut full = vec!["schedule", "create"];
        full.extend_from_slice(args);
        let out = ark.run(&full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {:?} lacks {needle:?}", stderr(&out));
        assert!(!state.exists(), "{args:?} wrote the state file");
    }

    ark.ok(&["schedule", "create", "taken", "--schedule", "@daily"]);
    let before = std::fs::read(&state).unwrap();
    let out = ark.run(&["schedule", "create", "taken", "--schedule", "@hourly"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("schedule taken already exists"), "{}", stderr(&out));
    let endpoint = ark.env().s3_endpoint().to_owned();
    ark.ok(&["config", "set-location", "old", "s3://old-bucket/ark", "--endpoint", &endpoint, "--read-only"]);
    let out = ark.run(&["schedule", "create", "into-old", "--schedule", "@daily", "--storage-location", "old"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("storage location old is read-only"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&state).unwrap(), before, "state file untouched");
}

#[test]
fn unreadable_or_newer_state_files_are_clear_errors_and_left_untouched() {
    let ark = Ark::new();
    let state = ark.home().join("state/ark/state.json");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    for (content, needle) in
        [("{\"version\": 1, \"schedules\": [", "is not valid"), ("{\"version\": 7}", "written by a newer ark")]
    {
        std::fs::write(&state, content).unwrap();
        for args in [
            vec!["schedule", "get"],
            vec!["schedule", "create", "x", "--schedule", "@daily"],
            vec!["daemon"],
            vec!["sync"],
        ] {
            let out = ark.run(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(&state.display().to_string()) && err.contains(needle), "{args:?}: {err}");
            assert_eq!(std::fs::read_to_string(&state).unwrap(), content);
        }
    }
}

#[test]
fn daemon_takes_first_backups_honours_skip_first_and_pause_and_keeps_backups_of_deleted_schedules() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    let namespace = small_namespace();
    let ns = namespace.as_str();
    ark.ok(&["schedule", "create", "first", "--schedule", "0 3 * * *", "-n", ns, "--include-resources", "configmaps"]);
    ark.ok(&["schedule", "create", "later", "--schedule", "0 3 * * *", "-n", ns, "--skip-first"]);
    ark.ok(&["schedule", "create", "held", "--schedule", "@every 1s", "-n", ns]);
    ark.ok(&["schedule", "pause", "held"]);

    let daemon = Daemon::start(&ark, &["--sync-interval", "1h", "--gc-interval", "1h"]);
    eventually(Duration::from_secs(120), "the first backup of schedule first", || {
        schedule_json(&ark, "first")["lastBackup"]["phase"] == "Completed"
    });
    let name = schedule_json(&ark, "first")["lastBackup"]["name"].as_str().unwrap().to_owned();
    assert_eq!(name.len(), "first-".len() + 14, "{name}");
    assert!(name.starts_with("first-2") && name[6..].chars().all(|c| c.is_ascii_digit()), "{name}");
    let backups = bucket_backups(&bucket, "first-");
    assert_eq!(backups.len(), 1, "{backups:?}");
    for file in ["ark-backup.json".to_owned(), format!("{name}.tar.gz"), format!("{name}-logs.gz")] {
        assert!(backups[0].1.contains(&file), "{file} in {backups:?}");
    }
    let record = json(&ark.run(&["backup", "describe", &name, "-o", "json"]));
    assert_eq!(record["phase"], "Completed");
    assert_eq!(record["spec"]["schedule"], "first");
    assert_eq!(record["itemsBackedUp"], 2, "the two config maps: {record}");
    // The daemon's own backups go into the local cache without waiting for the next sync.
    eventually(Duration::from_secs(10), "the backup in the schedule's cached backups", || {
        json(&ark.run(&["schedule", "describe", "first", "-o", "json"]))["backups"][0]["name"] == name.as_str()
    });

    // A schedule created while the daemon runs is picked up; pausing it stops its backups.
    ark.ok(&["schedule", "create", "often", "--schedule", "@every 2s", "-n", ns, "--include-resources", "configmaps"]);
    eventually(Duration::from_secs(120), "two backups of schedule often", || {
        bucket_backups(&bucket, "often-")
            .iter()
            .filter(|(_, files)| files.iter().any(|f| f.ends_with(".tar.gz")))
            .count()
            >= 2
    });
    ark.ok(&["schedule", "pause", "often"]);
    // A run that had started before the pause may still finish.
    std::thread::sleep(Duration::from_secs(3));
    let after_pause = bucket_backups(&bucket, "often-").len();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(bucket_backups(&bucket, "often-").len(), after_pause, "no backup after the pause");
    ark.ok(&["schedule", "delete", "often"]);
    assert_eq!(bucket_backups(&bucket, "often-").len(), after_pause, "deleting a schedule keeps its backups");

    let (status, log) = daemon.terminate();
    assert!(status.success(), "{status}\n{log}");
    assert!(log.contains(&format!("schedule first: backup {name} started")), "{log}");
    assert!(log.contains(&format!("schedule first: backup {name} Completed")), "{log}");
    assert!(log.contains("state file changed: schedules added often"), "{log}");
    assert!(log.contains("ark daemon stopped"), "{log}");
    assert!(bucket_backups(&bucket, "later-").is_empty(), "skip-first: no backup before the first cron time");
    assert!(bucket_backups(&bucket, "held-").is_empty(), "a paused schedule never runs");
    assert!(schedule_json(&ark, "later")["lastBackup"].is_null());
    assert!(schedule_json(&ark, "held")["lastBackup"].is_null());
}

#[test]
fn a_second_daemon_on_the_same_state_refuses_to_start() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let first = Daemon::start(&ark, &[]);
    first.wait_for_log("ark daemon started", Duration::from_secs(30));
    let out = ark.run(&["daemon"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("another ark daemon (pid {}) is running", first.child.id())), "{err}");
    assert!(err.contains("state.json"), "{err}");
    let (status, _) = first.terminate();
    assert!(status.success());
    // The lock goes with the daemon.
    let again = Daemon::start(&ark, &[]);
    again.wait_for_log("ark daemon started", Duration::from_secs(30));
    assert!(again.terminate().0.success());
}

#[test]
fn sigterm_during_a_backup_stops_the_daemon_cleanly_and_the_backup_says_how_it_ended() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    // The whole cluster: a backup that takes a moment.
    ark.ok(&["schedule", "create", "whole", "--schedule", "@daily"]);
    let daemon = Daemon::start(&ark, &["--sync-interval", "1h", "--gc-interval", "1h"]);
    daemon.wait_for_log("schedule whole: backup whole-", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1500));
    let (status, log) = daemon.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("ark daemon stopped"), "{log}");
    let last = schedule_json(&ark, "whole")["lastBackup"].clone();
    let name = last["name"].as_str().unwrap();
    // Whatever point it had reached, the run ended in a phase that says so, here and in the bucket.
    assert_ne!(last["phase"], "InProgress", "{last}");
    let keys = bucket_keys(&bucket, &format!("ark/backups/{name}/"));
    let out = ark.run(&["backup", "describe", name, "-o", "json"]);
    if !out.status.success() {
        // Interrupted before it wrote anything: nothing in the bucket, and the schedule says why.
        assert_eq!(last["phase"], "Failed", "{last}");
        assert!(last["failureReason"].as_str().unwrap().contains("interrupted"), "{last}");
        assert!(keys.is_empty(), "{keys:?}");
        return;
    }
    let record = json(&out);
    assert_eq!(record["phase"], last["phase"], "{record}");
    if record["phase"] == "Failed" {
        assert_eq!(record["failureReason"], "interrupted", "{record}");
    } else {
        assert!(keys.contains(&format!("ark/backups/{name}/{name}.tar.gz")), "{keys:?}");
    }
}

#[test]
fn a_daemon_killed_during_a_backup_leaves_a_valid_state_and_the_next_one_continues() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    let namespace = small_namespace();
    ark.ok(&["schedule", "create", "crash", "--schedule", "@every 3s", "-n", &namespace]);
    let daemon = Daemon::start(&ark, &["--sync-interval", "1h", "--gc-interval", "1h"]);
    daemon.wait_for_log("schedule crash: backup crash-", Duration::from_secs(30));
    daemon.signal("-KILL");
    drop(daemon);

    let state: Value =
        serde_json::from_slice(&std::fs::read(ark.home().join("state/ark/state.json")).unwrap()).unwrap();
    let killed = state["schedules"][0]["lastBackup"]["name"].as_str().unwrap().to_owned();
    // Nothing listed Completed is less than whole.
    for (name, files) in bucket_backups(&bucket, "crash-") {
        let record = json(&ark.run(&["backup", "describe", &name, "-o", "json"]));
        if record["phase"] == "Completed" {
            assert!(files.contains(&format!("{name}.tar.gz")), "{name}: {files:?}");
        }
    }

    // The kill may land before or after the run finished writing its record.
    let before = ark.run(&["backup", "describe", &killed, "-o", "json"]);
    let left_in_progress = before.status.success() && json(&before)["phase"] == "InProgress";

    let daemon = Daemon::start(&ark, &["--sync-interval", "1h", "--gc-interval", "1h"]);
    eventually(Duration::from_secs(120), "a new completed backup after the restart", || {
        let last = schedule_json(&ark, "crash")["lastBackup"].clone();
        last["name"] != killed.as_str() && last["phase"] == "Completed"
    });
    let (status, log) = daemon.terminate();
    assert!(status.success(), "{log}");
    // The killed run is not left looking as if it were still running.
    let out = ark.run(&["backup", "describe", &killed, "-o", "json"]);
    if out.status.success() {
        let record = json(&out);
        assert_ne!(record["phase"], "InProgress", "{record}");
        if left_in_progress {
            assert!(log.contains(&format!("backup {killed}, left InProgress by a daemon that stopped, is")), "{log}");
        }
    }
}

#[test]
fn restore_only_daemon_syncs_but_runs_no_schedule() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    ark.ok(&["schedule", "create", "eager", "--schedule", "@every 1s"]);
    let daemon = Daemon::start(&ark, &["--restore-only", "--sync-interval", "1s"]);
    daemon.wait_for_log("sync moto: 0 backups", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    let (status, log) = daemon.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("restore-only"), "{log}");
    assert!(!log.contains("backup eager-"), "{log}");
    assert!(schedule_json(&ark, "eager")["lastBackup"].is_null());
    assert!(bucket_backups(&bucket, "").is_empty());
    assert!(!log.contains("gc "), "restore-only expires nothing: {log}");
}

#[test]
fn gc_deletes_expired_backups_with_their_restores_and_leaves_the_rest_alone() {
    let ark = Ark::new();
    let bucket = ark.add_s3_location("moto", true);
    let other_bucket = ark.add_s3_location("other", false);
    let namespace = small_namespace();
    let ns = namespace.as_str();
    let copy = format!("{ns}-copy");
    let copy2 = format!("{ns}-copy2");
    // A claim on an EBS volume (in moto), so that the expiring backup has a snapshot to delete.
    ark.add_snapshot_location("ebs", false);
    let volume =
        xml_values(&ec2(&[("Action", "CreateVolume"), ("AvailabilityZone", "us-east-1a"), ("Size", "1")]), "volumeId")
            .remove(0);
    let pv = unique("gc-pv");
    let objects = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "ark-gc-test",
                  "persistentVolumeReclaimPolicy": "Retain", "claimRef": {"namespace": ns, "name": "data"},
                  "awsElasticBlockStore": {"volumeID": format!("aws://us-east-1a/{volume}")}}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": ns},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "ark-gc-test", "volumeName": pv,
                  "resources": {"requests": {"storage": "1Gi"}}}}]});
    let file = ark.home().join("volume.json");
    std::fs::write(&file, objects.to_string()).unwrap();
    let out = kubectl(&["create", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let snapshots_of = |backup: &str| {
        let xml = ec2(&[
            ("Action", "DescribeSnapshots"),
            ("Filter.1.Name", "tag:ark.heptio.com/backup"),
            ("Filter.1.Value.1", backup),
        ]);
        xml_values(&xml, "snapshotId")
    };

    let only_cm = ["--include-resources", "configmaps", "-n", ns];
    let with_volume = ["--include-resources", "configmaps,persistentvolumeclaims,persistentvolumes", "-n", ns];
    ark.ok(
        &[&["backup", "create", "old", "--ttl", "1s", "--volume-snapshot-location", "ebs"][..], &with_volume].concat()
    );
    assert_eq!(snapshots_of("old").len(), 1, "the backup took a snapshot of the volume");
    ark.ok(&[&["backup", "create", "young", "--ttl", "1h"][..], &only_cm].concat());
    ark.ok(&[&["backup", "create", "elsewhere", "--ttl", "1s", "--storage-location", "other"][..], &only_cm].concat());
    let mapping = format!("{ns}:{copy}");
    ark.ok(&[
        &["restore", "create", "from-old", "--from-backup", "old", "--namespace-mappings", &mapping][..],
        &only_cm[..2],
    ]
    .concat());
    let mapping2 = format!("{ns}:{copy2}");
    ark.ok(&["restore", "create", "from-young", "--from-backup", "young", "--namespace-mappings", &mapping2]);
    // A record gc cannot read: its expiration is unknown, so it stays.
    let status = std::process::Command::new("curl")
        .args(["-sf", "-X", "PUT", "--data", "{not json"])
        .arg(format!("{}/{bucket}/ark/backups/broken/ark-backup.json", ark.env().s3_endpoint()))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // The other location becomes read-only, as an old cluster's bucket would be.
    let endpoint = ark.env().s3_endpoint().to_owned();
    let url = format!("s3://{other_bucket}/ark");
    ark.ok(&["config", "set-location", "other", &url, "--endpoint", &endpoint, "--path-style", "--read-only"]);
    std::thread::sleep(Duration::from_millis(1100));

    let dry = json(&ark.run(&["gc", "--dry-run", "-o", "json"]));
    let moto = dry.as_array().unwrap().iter().find(|r| r["location"] == "moto").unwrap();
    assert_eq!(moto["deleted"][0]["backup"], "old", "{dry}");
    assert!(!bucket_keys(&bucket, "ark/backups/old/").is_empty(), "a dry run deletes nothing");

    let out = ark.run(&["gc", "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports = json(&out);
    let moto = reports.as_array().unwrap().iter().find(|r| r["location"] == "moto").unwrap();
    assert_eq!(moto["deleted"].as_array().unwrap().len(), 1, "{reports}");
    assert_eq!(moto["deleted"][0]["backup"], "old");
    assert_eq!(moto["deleted"][0]["restores"], serde_json::json!(["from-old"]));
    assert_eq!(moto["deleted"][0]["snapshots"], 1);
    assert_eq!(moto["kept"], 1);
    assert_eq!(moto["skipped"][0]["backup"], "broken");
    assert!(moto["skipped"][0]["reason"].as_str().unwrap().contains("cannot be read"), "{reports}");
    let other = reports.as_array().unwrap().iter().find(|r| r["location"] == "other").unwrap();
    assert!(other["skippedLocation"].as_str().unwrap().contains("read-only"), "{reports}");
    assert!(other["deleted"].as_array().unwrap().is_empty());

    assert!(bucket_keys(&bucket, "ark/backups/old/").is_empty(), "expired backup's objects deleted");
    assert!(bucket_keys(&bucket, "ark/restores/from-old/").is_empty(), "its restore's records deleted");
    assert!(snapshots_of("old").is_empty(), "its volume snapshot deleted");
    assert!(!bucket_keys(&bucket, "ark/backups/young/").is_empty());
    assert!(!bucket_keys(&bucket, "ark/restores/from-young/").is_empty());
    assert!(!bucket_keys(&bucket, "ark/backups/broken/").is_empty());
    assert!(!bucket_keys(&other_bucket, "ark/backups/elsewhere/").is_empty(), "read-only location untouched");

    let text = ark.ok(&["gc"]);
    assert!(text.contains("moto: kept backup broken: its record cannot be read"), "{text}");
    assert!(text.contains("other: left alone: read-only"), "{text}");
    let _ = kubectl(&["delete", "namespace", ns, &copy, &copy2, "--wait=false"]);
    let _ = kubectl(&["delete", "pv", &pv, "--wait=false"]);
    let _ = kubectl(&["patch", "pv", &pv, "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
}

#[test]
fn sync_finds_backups_another_machine_wrote_and_drops_deleted_ones() {
    let writer = Ark::new();
    let bucket = writer.add_s3_location("moto", true);
    let namespace = small_namespace();
    let reader = Ark::new();
    let url = format!("s3://{bucket}/ark");
    let endpoint = reader.env().s3_endpoint().to_owned();
    reader.ok(&[
        "config",
        "set-location",
        "moto",
        &url,
        "--endpoint",
        &endpoint,
        "--path-style",
        "--region",
        "us-east-1",
    ]);

    let first = json(&reader.run(&["sync", "-o", "json"]));
    assert_eq!(first["locations"][0]["backups"], 0, "{first}");

    writer.ok(&["backup", "create", "shared", "-n", &namespace, "--include-resources", "configmaps"]);
    let synced = json(&reader.run(&["sync", "-o", "json"]));
    assert_eq!(synced["locations"][0]["location"], "moto");
    assert_eq!(synced["locations"][0]["added"], serde_json::json!(["shared"]), "{synced}");
    let state: Value =
        serde_json::from_slice(&std::fs::read(reader.home().join("state/ark/state.json")).unwrap()).unwrap();
    assert_eq!(state["cache"]["moto"]["backups"]["shared"]["readable"]["phase"], "Completed", "{state}");
    let again = reader.ok(&["sync"]);
    assert!(again.contains("moto: 1 backups, 0 restores; no changes"), "{again}");

    // The cache is only a cache: wiped, a sync rebuilds it from the bucket.
    std::fs::remove_file(reader.home().join("state/ark/state.json")).unwrap();
    let rebuilt = json(&reader.run(&["sync", "-o", "json"]));
    assert_eq!(rebuilt["locations"][0]["added"], serde_json::json!(["shared"]), "{rebuilt}");
    assert!(reader.ok(&["backup", "get"]).lines().any(|l| l.starts_with("shared ")));

    writer.ok(&["backup", "delete", "shared", "--confirm"]);
    let dropped = json(&reader.run(&["sync", "-o", "json"]));
    assert_eq!(dropped["locations"][0]["removed"], serde_json::json!(["shared"]), "{dropped}");
    let state: Value =
        serde_json::from_slice(&std::fs::read(reader.home().join("state/ark/state.json")).unwrap()).unwrap();
    assert!(state["cache"]["moto"]["backups"].as_object().unwrap().is_empty(), "{state}");
    let _ = kubectl(&["delete", "namespace", &namespace, "--wait=false"]);
}
