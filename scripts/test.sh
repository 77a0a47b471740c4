#!/usr/bin/env bash
# The whole test suite, as CI runs it: format check, clippy, unit tests and the end-to-end tests
# against a real kube-apiserver (over etcd) and a real S3/EC2 server (moto), which this script
# installs (first run only) and starts on free loopback ports, and stops again at the end.
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

step "test environment up"
ARK_TEST_ENV_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ark-test-env.XXXXXX")"
export ARK_TEST_ENV_DIR
trap 'scripts/test-env.sh down "$ARK_TEST_ENV_DIR-second" || true; scripts/test-env.sh down "$ARK_TEST_ENV_DIR" || true' EXIT
scripts/test-env.sh up "$ARK_TEST_ENV_DIR"

step "cargo test"
cargo test --all-targets --locked --no-fail-fast -- --test-threads "${ARK_TEST_THREADS:-4}"
