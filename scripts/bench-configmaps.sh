#!/usr/bin/env bash
# Backs up and restores N ConfigMaps (1 KiB of data each) on the throwaway test cluster with the
# static release binary, at N/10 and at N, and prints wall time, objects/s and peak RSS, so
# that flat memory (RSS not growing with N) can be seen side by side.
#
#   scripts/bench-configmaps.sh [N]      (default 10000; ARK_BIN=path measures that binary instead)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark/target}"

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -n "${ARK_BIN:-}" ]; then
    ARK="$ARK_BIN"   # measure a binary you already have (say, a debug build)
else
    echo "building the release binary..." >&2
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target x86_64-unknown-linux-gnu -q
    ARK="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/ark"
fi

ENV_DIR="${ARK_BENCH_ENV_DIR:-/tmp/ark-bench-env}"
scripts/test-env.sh up "$ENV_DIR" >&2
# shellcheck disable=SC1091
source "$ENV_DIR/env"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data" XDG_STATE_HOME="$WORK/state"
curl -sf -X PUT "$ARK_TEST_S3_ENDPOINT/bench" >/dev/null || true
"$ARK" config set-location s3 s3://bench/ark --endpoint "$ARK_TEST_S3_ENDPOINT" --path-style 2>/dev/null
"$ARK" config set-location local "file://$WORK/bucket" --default 2>/dev/null

seed() { # namespace count
    kubectl create namespace "$1" >/dev/null
    python3 - "$1" "$2" "$WORK/seed" <<'PY'
import json, os, sys
ns, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
for start in range(0, count, 500):
    items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": ns, "labels": {"bench": "ark"}},
              "data": {"payload": ("%06d" % i) * 170}} for i in range(start, min(count, start + 500))]
    with open(f"{out}/{ns}-{start}.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
PY
    ls "$WORK"/seed/"$1"-*.json | xargs -P 4 -n 1 kubectl create -f >/dev/null
    rm -f "$WORK"/seed/"$1"-*.json
}

measure() { # label objects command...
    local label="$1" objects="$2"; shift 2
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || { cat "$WORK/out" "$WORK/time" >&2; exit 1; }
    end=$(date +%s.%N)
    local rss
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time")
    awk -v l="$label" -v n="$objects" -v s="$start" -v e="$end" -v r="$rss" \
        'BEGIN { t = e - s; printf "| %-34s | %8d | %8.2f | %10.0f | %8.1f |\n", l, n, t, n / t, r / 1024 }'
}

run_id="$(date +%s)"
echo "| operation                          |  objects |   wall s |  objects/s | RSS MiB |"
echo "|------------------------------------|----------|----------|------------|---------|"
for count in $((N / 10)) "$N"; do
    ns="bench-$run_id-$count"
    seed "$ns" "$count"
    measure "backup $count to file://" "$count" "$ARK" backup create "b-$ns" -n "$ns" --storage-location local
    measure "backup $count to s3:// (moto)" "$count" "$ARK" backup create "s-$ns" -n "$ns" --storage-location s3
    measure "restore $count (new namespace)" "$count" "$ARK" restore create "r-$ns" --from-backup "b-$ns" \
        --storage-location local --namespace-mappings "$ns:$ns-r"
    kubectl delete namespace "$ns" "$ns-r" --wait=false >/dev/null
done
echo "archive of $N: $(du -h "$WORK"/bucket/backups/b-bench-*-"$N"/*.tar.gz | cut -f1)" >&2
