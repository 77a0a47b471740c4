#!/usr/bin/env bash
# The whole test suite, as CI runs it: format check, clippy and unit tests once, then the
# end-to-end tests against each Kubernetes the project supports (current, then 1.20), each on a
# real kube-apiserver over etcd and a real S3/EC2 server (moto), which this script installs
# (first run only), starts on free loopback ports and stops again after that version's run.
# ARK_TEST_KUBE=current (or 1.20) runs the end-to-end tests against that one only.
# An end-to-end failure against either version fails the script, after both have run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep the build outside the checkout so a fresh clone (and CI) reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)" >&2; }

step "environment"
scripts/test-env.sh install

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "unit tests"
cargo test --bins --locked

# The environments of the run in progress, stopped on any exit (tests start DIR-second themselves).
envs=()
stop_envs() {
    local dir
    for dir in "${envs[@]}"; do
        scripts/test-env.sh down "$dir-second" || true
        scripts/test-env.sh down "$dir" || true
    done
    envs=()
}
trap stop_envs EXIT

# e2e KUBE: the end-to-end tests against that Kubernetes, in an environment of their own.
# Sets KUBE_LABEL to the version it ran against.
e2e() {
    local dir version
    KUBE_LABEL="$1"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ark-test-env-$1.XXXXXX")"
    envs+=("$dir")
    step "test environment up: Kubernetes $1"
    ARK_TEST_KUBE="$1" scripts/test-env.sh up "$dir" || return 1
    version="$(sed -n 's/^export ARK_TEST_KUBE_VERSION=//p' "$dir/env")"
    KUBE_LABEL="$version ($1)"
    step "end-to-end tests against Kubernetes $KUBE_LABEL"
    ARK_TEST_ENV_DIR="$dir" ARK_TEST_KUBE="$1" \
        cargo test --test '*' --locked --no-fail-fast -- --test-threads "${ARK_TEST_THREADS:-4}"
    local status=$?
    if [ "$status" != 0 ]; then keep_logs "$1"; fi
    step "test environment down: Kubernetes $version"
    stop_envs
    return $status
}

# The servers' logs of a failed run, kept where `down` does not remove them.
keep_logs() { # kube
    local env dir logs
    logs="$(mktemp -d "${TMPDIR:-/tmp}/ark-test-logs-$1.XXXXXX")"
    for env in "${envs[@]}"; do
        for dir in "$env" "$env-second"; do
            [ -d "$dir" ] || continue
            mkdir -p "$logs/${dir##*/}"
            cp "$dir"/*.log "$logs/${dir##*/}/" 2>/dev/null || true
        done
    done
    echo "test.sh: the test environments' logs are kept in $logs" >&2
}

results=()
failed=0
for kube in ${ARK_TEST_KUBE:-current 1.20}; do
    if e2e "$kube"; then
        results+=("passed  end-to-end tests against Kubernetes $KUBE_LABEL")
    else
        results+=("FAILED  end-to-end tests against Kubernetes $KUBE_LABEL")
        failed=1
    fi
done

step "summary"
printf '%s\n' "${results[@]}" >&2
exit "$failed"
