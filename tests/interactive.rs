//! End-to-end at a real terminal (a tmux pane): a person picks the backup to restore from and
//! confirms the restore; without a terminal the same command fails at once, naming the flag.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{Ark, kubectl, stderr, unique};

/// A tmux server of its own, killed when dropped.
struct Terminal {
    socket: String,
    session: String,
}

impl Terminal {
    fn start(ark: &Ark, args: &[&str]) -> Self {
        let socket = unique("ark-tmux");
        let session = "ark".to_owned();
        let mut line = String::from("env -i");
        for (key, value) in ark.env_vars() {
            line.push_str(&format!(" {key}='{value}'"));
        }
        line.push_str(&format!(" '{}'", env!("CARGO_BIN_EXE_ark")));
        for arg in args {
            line.push_str(&format!(" '{arg}'"));
        }
        line.push_str("; echo ARK-EXIT=$?; sleep 120");
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-s", &session, "-x", "160", "-y", "40", &line])
            .status()
            .expect("run tmux");
        assert!(status.success(), "start tmux");
        Self { socket, session }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        for _ in 0..300 {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the terminal never showed {text:?}:\n{}", self.screen());
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["-L", &self.socket, "send-keys", "-t", &self.session];
        args.extend(keys);
        assert!(Command::new("tmux").args(&args).status().expect("run tmux").success());
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

#[test]
fn a_person_picks_the_backup_and_confirms_the_restore() {
    let ark = Ark::new();
    ark.add_s3_location("moto", true);
    let ns = unique("pick");
    assert!(kubectl(&["create", "namespace", &ns]).status.success());
    assert!(kubectl(&["create", "configmap", "first", "-n", &ns]).status.success());
    let older = unique("older");
    ark.ok(&["backup", "create", &older, "-n", &ns]);
    assert!(kubectl(&["create", "configmap", "second", "-n", &ns]).status.success());
    let newer = unique("newer");
    ark.ok(&["backup", "create", &newer, "-n", &ns]);

    // Without a terminal: no waiting, the missing flag is named.
    let out = ark.run(&["restore", "create"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--from-backup"), "{}", stderr(&out));

    let copy = format!("{ns}-copy");
    let mapping = format!("{ns}:{copy}");
    let terminal = Terminal::start(&ark, &["restore", "create", "--namespace-mappings", &mapping]);
    let screen = terminal.wait_for("Restore from which backup");
    let (at_newer, at_older) = (screen.find(&newer).unwrap(), screen.find(&older).unwrap());
    assert!(at_newer < at_older, "newest first:\n{screen}");
    terminal.keys(&["Down", "Enter"]);
    let screen = terminal.wait_for("Go ahead?");
    assert!(
        screen.contains(&format!("Restore backup {older}")) && screen.contains(&format!("{ns} -> {copy}")),
        "{screen}"
    );
    terminal.keys(&["y"]);
    let screen = terminal.wait_for("ARK-EXIT=");
    assert!(screen.contains("ARK-EXIT=0"), "{screen}");
    assert!(kubectl(&["get", "configmap", "first", "-n", &copy]).status.success(), "restored from the picked backup");
    assert!(!kubectl(&["get", "configmap", "second", "-n", &copy]).status.success(), "not from the newer one");

    // Declining restores nothing.
    let other = format!("{ns}-declined");
    let terminal = Terminal::start(
        &ark,
        &["restore", "create", "--from-backup", &newer, "--namespace-mappings", &format!("{ns}:{other}")],
    );
    terminal.wait_for("Go ahead?");
    terminal.keys(&["n"]);
    let screen = terminal.wait_for("ARK-EXIT=");
    assert!(screen.contains("nothing restored") && screen.contains("ARK-EXIT=1"), "{screen}");
    assert!(!kubectl(&["get", "namespace", &other]).status.success());
    support::delete_namespaces(&[&ns, &copy]);
}
