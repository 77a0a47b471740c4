//! The shell completions in `completions/` and the man pages in `man/` are generated from the
//! clap definitions and committed, so packagers and `install.sh` need no build step. This test
//! fails when they are stale; `ARK_UPDATE_GENERATED=1 cargo test generated_files` rewrites them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::CommandFactory;

use super::Cli;

fn generated_files() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (shell, name) in [
        (clap_complete::Shell::Bash, "ark.bash"),
        (clap_complete::Shell::Zsh, "_ark"),
        (clap_complete::Shell::Fish, "ark.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "ark", &mut out);
        files.insert(PathBuf::from("completions").join(name), out);
    }
    let mut command = Cli::command();
    command.build();
    man_pages(&command, "ark", &mut files);
    files
}

/// The same exit codes for every verb (README, `ark --help`), on every page.
const EXIT_STATUS: &str = ".SH \"EXIT STATUS\"
.TP
0
success
.TP
1
failure
.TP
2
usage or configuration error (bad flags, names, cron expressions, config file; a missing choice
without a terminal)
.TP
3
partially failed: the operation finished, but some items failed
";

fn man_pages(command: &clap::Command, name: &str, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let mut out = Vec::new();
    let page = command.clone().name(name.to_owned()).display_name(name.replace('-', " "));
    if clap_mangen::Man::new(page).render(&mut out).is_ok() {
        out.extend_from_slice(EXIT_STATUS.as_bytes());
        files.insert(PathBuf::from("man").join(format!("{name}.1")), out);
    }
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        man_pages(sub, &format!("{name}-{}", sub.get_name()), files);
    }
}

#[test]
fn generated_files_are_fresh() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("ARK_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (path, content) in generated_files() {
        let full = root.join(&path);
        if std::fs::read(&full).ok().as_deref() != Some(content.as_slice()) {
            if update {
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, &content).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(stale.is_empty(), "stale generated files {stale:?}: run ARK_UPDATE_GENERATED=1 cargo test generated_files");
}
