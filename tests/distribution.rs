//! install.sh puts the binary, completions and man pages under a prefix, idempotently; the man
//! pages render and the bash completion completes verbs.

mod support;

use std::path::Path;
use std::process::Command;

use support::repo_root;

fn install(prefix: &Path) -> String {
    let out = Command::new(repo_root().join("install.sh"))
        .args(["--prefix", prefix.to_str().unwrap(), "--binary", env!("CARGO_BIN_EXE_ark")])
        .output()
        .expect("run install.sh");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "install.sh failed:\n{text}");
    text
}

#[test]
fn install_sh_installs_binary_completions_and_man_pages() {
    let prefix = tempfile::tempdir().unwrap();
    let first = install(prefix.path());
    assert!(first.contains("installed") && first.contains("man pages"), "tells what it did: {first}");
    install(prefix.path()); // again: replaces, does not fail

    let ark = prefix.path().join("bin/ark");
    let version = Command::new(&ark).args(["version", "--client"]).output().unwrap();
    assert!(version.status.success() && String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    let pages = std::fs::read_dir(repo_root().join("man")).unwrap().count();
    assert_eq!(std::fs::read_dir(prefix.path().join("share/man/man1")).unwrap().count(), pages);
    for file in ["share/zsh/site-functions/_ark", "share/fish/vendor_completions.d/ark.fish"] {
        assert!(prefix.path().join(file).is_file(), "{file}");
    }

    let page = prefix.path().join("share/man/man1/ark-backup-create.1");
    let man = Command::new("man").env("MANWIDTH", "80").args(["-P", "cat", "-l"]).arg(&page).output().unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success(), "{}", String::from_utf8_lossy(&man.stderr));
    assert!(text.contains("ark-backup-create") && text.contains("--include-namespaces"), "{text}");

    let completion = prefix.path().join("share/bash-completion/completions/ark");
    let script = format!(
        "source '{}'; COMP_WORDS=(ark re); COMP_CWORD=1; COMP_LINE='ark re'; COMP_POINT=6; _ark ark re ark; echo \"${{COMPREPLY[*]}}\"",
        completion.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        words.split_whitespace().any(|w| w == "restore"),
        "completes verbs: {words:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
