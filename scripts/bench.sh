#!/usr/bin/env bash
# The benchmark of issue 9: seeds a realistic cluster of N objects on a fresh throwaway test
# cluster and measures, side by side and with the same page size,
#   - the apiserver's limit: paginated LISTs of every type ark backs up as parallel raw HTTP
#     requests (bodies discarded), and the same objects created with parallel raw POSTs;
#   - ark backup (to file:// and to moto's S3) and ark restore (into fresh namespaces);
#   - the kubectl way: `kubectl get -o json` per type and namespace, `kubectl create -f` of the
#     exported objects (into fresh namespaces);
# then prints a table (wall time, objects/s, ratio to the limit, peak RSS, archive size), checks
# the issue's targets, and writes the table into docs/BENCHMARKS.md.
#
#   scripts/bench.sh [--objects 2000|20000|100000] [--tuning 'pageSize: 1000, listConcurrency: 8']
#                    [--skip-kubectl] [--keep-env] [--no-write] [--repeat K]
#
# The LIST limit and the backups run in K alternating rounds (default 5 at 2,000 objects, 3 up
# to 20,000, 1 above) and the median run is reported.
#
# About 1.5 minutes at 2,000 objects and 10 at 20,000; at 100,000 the controller manager needs
# 17 minutes for the ReplicaSets alone and the kubectl way 17 more (--skip-kubectl leaves it out).
#
# ARK_BIN=path measures that binary (otherwise the static release binary is built), ARK_COMMIT
# names the commit it was built from;
# ARK_BENCH_ENV_DIR names the test environment's directory (default /tmp/ark-bench-env): it is
# started afresh, so that a run sees only its own objects, and stopped at the end unless
# --keep-env. Needs python3, kubectl and /usr/bin/time (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

N=2000
TUNING=""
SKIP_KUBECTL=0
KEEP_ENV=0
WRITE=1
while [ $# -gt 0 ]; do
    case "$1" in
        --objects) N="$2"; shift 2 ;;
        --tuning) TUNING="$2"; shift 2 ;;
        --skip-kubectl) SKIP_KUBECTL=1; shift ;;
        --keep-env) KEEP_ENV=1; shift ;;
        --no-write) WRITE=0; shift ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
# Small runs are over in a tenth of a second, where one busy moment on a shared machine moves
# the ratio by half: the limit and the backups are measured in alternating rounds, median kept.
REPEAT=${REPEAT:-$(( N <= 2000 ? 5 : (N <= 20000 ? 3 : 1) ))}
PER_NAMESPACE=200 # objects per namespace (scripts/bench_client.py MIX)
NAMESPACES=$(( (N + PER_NAMESPACE - 1) / PER_NAMESPACE ))
CLIENT="python3 $REPO/scripts/bench_client.py"

log() { echo "bench: $*" >&2; }

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -n "${ARK_BIN:-}" ]; then
    ARK="$ARK_BIN"
else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ark/target}"
    log "building the release binary..."
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target x86_64-unknown-linux-gnu -q
    ARK="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/ark"
fi

ENV_DIR="${ARK_BENCH_ENV_DIR:-/tmp/ark-bench-env}"
scripts/test-env.sh down "$ENV_DIR" 2>/dev/null
scripts/test-env.sh up "$ENV_DIR" >&2
# shellcheck disable=SC1091
source "$ENV_DIR/env"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ark-bench.XXXXXX")"
cleanup() {
    rm -rf "$WORK"
    if [ "$KEEP_ENV" = 0 ]; then scripts/test-env.sh down "$ENV_DIR" 2>/dev/null; fi
}
trap cleanup EXIT
export XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data" XDG_STATE_HOME="$WORK/state" XDG_CACHE_HOME="$WORK/cache"
curl -sf -X PUT "$ARK_TEST_S3_ENDPOINT/bench" >/dev/null
"$ARK" config set-location s3 s3://bench/ark --endpoint "$ARK_TEST_S3_ENDPOINT" --path-style 2>/dev/null
"$ARK" config set-location local "file://$WORK/bucket" --default 2>/dev/null
if [ -n "$TUNING" ]; then
    printf 'tuning: {%s}\n' "$TUNING" >>"$XDG_CONFIG_HOME/ark/config.yaml"
fi
PAGE_SIZE=$("$ARK" config view -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("tuning", {}).get("pageSize", 500))')

# --- measuring -----------------------------------------------------------------------------

ROWS="$WORK/rows" # label|objects|seconds|rss_kib|bytes|kind|client_cpu|server_cpu
: >"$ROWS"

# CPU seconds the apiserver, etcd and moto have used so far (the machine's other big consumers).
server_cpu() {
    local total=0 name pid
    for name in apiserver etcd moto; do
        pid=$(cat "$ENV_DIR/$name.pid")
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# Runs a command under /usr/bin/time -v; sets SECONDS_TAKEN, RSS_KIB, CLIENT_CPU and SERVER_CPU
# (apiserver + etcd + moto during the run), leaves stdout in $WORK/out. With HANG_LIMIT set (seconds),
# a command still running after that long is stopped (SIGTERM, then SIGKILL) and timed returns 2
# instead of failing the benchmark.
timed() {
    local start end server_before status=0
    server_before=$(server_cpu)
    start=$(date +%s.%N)
    if [ -n "${HANG_LIMIT:-}" ]; then
        /usr/bin/time -v timeout -k 10 "$HANG_LIMIT" "$@" >"$WORK/out" 2>"$WORK/time" || status=$?
    else
        /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || status=$?
    fi
    if [ "$status" != 0 ]; then
        tail -n 40 "$WORK/out" "$WORK/time" >&2
        if [ -n "${HANG_LIMIT:-}" ] && grep -q "Exit status: 12[4-9]\|Exit status: 137" "$WORK/time"; then
            log "did not finish within ${HANG_LIMIT}s and was stopped: $*"
            return 2
        fi
        log "failed: $*"
        exit 1
    fi
    end=$(date +%s.%N)
    SECONDS_TAKEN=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
    SERVER_CPU=$(awk -v a="$server_before" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }')
    RSS_KIB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time")
    CLIENT_CPU=$(awk -F: '/(User|System) time \(seconds\)/ { t += $2 } END { printf "%.2f", t }' "$WORK/time")
}

row() { # label objects seconds rss_kib bytes kind
    echo "$1|$2|$3|$4|$5|$6|$CLIENT_CPU|$SERVER_CPU" >>"$ROWS"
    awk -F'|' -v OFS='|' '{ printf "bench: %-44s %8d objects %9.2f s %9.0f/s %7.1f MiB\n", $1, $2, $3, $2 / $3, $4 / 1024 }' \
        <<<"$1|$2|$3|$4" >&2
}

json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# A raw-HTTP measurement: its JSON line has objects and seconds (the client's own timing, from
# the moment every connection is ready to be opened).
raw_row() { # label kind bench_client args...
    local label="$1" kind="$2"; shift 2
    timed $CLIENT "$@"
    tail -1 "$WORK/out" >"$WORK/raw.json"
    row "$label" "$(json_field "$WORK/raw.json" '["objects"]')" "$(json_field "$WORK/raw.json" '["seconds"]')" \
        "$RSS_KIB" "$(json_field "$WORK/raw.json" '["bytes"]')" "$kind"
}

# --- seeding -------------------------------------------------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg) # other work on the machine skews every figure
log "seeding $N objects in $NAMESPACES namespaces (raw POSTs, 32 at once)"
raw_row "seed: raw POSTs (32 connections)" info seed bench "$NAMESPACES"
# Each Deployment (replicas 0) gets a ReplicaSet from the controller manager: wait for them, so
# that every measurement sees the same cluster. The controller manager creates them at its client
# rate limit (20 requests/s, with the Deployments' status updates): 2 minutes for 2,000, 17 for
# 10,000.
want_rs=$((NAMESPACES * 20))
count_rs() { # a one-item page says how many remain
    kubectl get --raw '/apis/apps/v1/replicasets?limit=1' |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]) + d["metadata"].get("remainingItemCount", 0))'
}
for _ in $(seq 1800); do
    have_rs=$(count_rs)
    [ "$have_rs" -ge "$want_rs" ] && break
    sleep 2
done
log "$have_rs of $want_rs ReplicaSets"
sleep 5

# --- the LIST limit and backups ------------------------------------------------------------

log "measuring the LIST limit (page size $PAGE_SIZE) and ark backup, $REPEAT rounds"
# one untimed pass first: the backups that follow find the server just as warm
$CLIENT list-limit --page-size "$PAGE_SIZE" >/dev/null

backup_field() { # backup location field (from the backup's record)
    "$ARK" backup describe "$1" --storage-location "$2" -o json >"$WORK/describe.json"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/describe.json" "$3"
}

# A measurement repeated in rounds keeps one line per run in a file (seconds first); its row is
# the run with the median time. A backup that hangs (which it must never do) is reported as such
# rather than stopping the benchmark, and not run again.
keep_run() { # file objects bytes
    echo "$SECONDS_TAKEN|$RSS_KIB|$CLIENT_CPU|$SERVER_CPU|$2|$3" >>"$1"
}
median_row() { # label kind file
    [ -s "$3" ] || return 0
    local line
    line=$(sort -t'|' -k1,1g "$3" | awk -v n="$(wc -l <"$3")" 'NR == int((n + 1) / 2)')
    IFS='|' read -r SECONDS_TAKEN RSS_KIB CLIENT_CPU SERVER_CPU objects bytes <<<"$line"
    row "$1" "$objects" "$SECONDS_TAKEN" "$RSS_KIB" "$bytes" "$2"
}
hung() { # label
    echo "$1|0|$SECONDS_TAKEN|$RSS_KIB||hung|$CLIENT_CPU|$SERVER_CPU" >>"$ROWS"
    log "$1: stopped after $SECONDS_TAKEN s"
}
ark_backup() { # name location label runs-file
    if [ -e "$WORK/$2.hung" ]; then return 0; fi
    if HANG_LIMIT=$ARK_HANG_LIMIT timed "$ARK" backup create "$1" --storage-location "$2"; then
        keep_run "$4" "$(backup_field "$1" "$2" itemsBackedUp)" "$(backup_field "$1" "$2" archiveBytes)"
    else
        hung "$3"
        touch "$WORK/$2.hung"
    fi
}

for ((round = 1; round <= REPEAT; round++)); do
    # The limit's time is the client's own, from the moment every connection is ready to open.
    timed $CLIENT list-limit --page-size "$PAGE_SIZE" --concurrency 8
    tail -1 "$WORK/out" >"$WORK/raw.json"
    SECONDS_TAKEN=$(json_field "$WORK/raw.json" '["seconds"]')
    keep_run "$WORK/limit.runs" "$(json_field "$WORK/raw.json" '["objects"]')" "$(json_field "$WORK/raw.json" '["bytes"]')"
    # ark gets 60 s plus 100 times the LIST limit: far more than it should need.
    ARK_HANG_LIMIT=${ARK_HANG_LIMIT:-$(awk -v s="$SECONDS_TAKEN" 'BEGIN { printf "%d", 60 + 100 * s }')}
    ark_backup "bf-$round" local "ark backup -> file://" "$WORK/file.runs"
    ark_backup "bs-$round" s3 "ark backup -> s3:// (moto)" "$WORK/s3.runs"
done
median_row "LIST limit: per type, 8 connections" list-limit "$WORK/limit.runs"
raw_row "LIST limit: per type, gzip, 8 connections" list-limit list-limit --page-size "$PAGE_SIZE" --concurrency 8 --gzip
raw_row "LIST limit: per namespace+type, 8 connections" list-limit list-limit --page-size "$PAGE_SIZE" --concurrency 8 --per-namespace
median_row "ark backup -> file://" backup "$WORK/file.runs"
median_row "ark backup -> s3:// (moto)" backup "$WORK/s3.runs"
backup_name=""
[ -e "$WORK/local.hung" ] || backup_name=bf-1

if [ "$SKIP_KUBECTL" = 0 ]; then
    log "the kubectl way: kubectl get -o json per type and namespace"
    $CLIENT types >"$WORK/types"
    kubectl get namespaces -o name | sed 's|^namespace/||' >"$WORK/namespaces"
    cat >"$WORK/dump.sh" <<'EOF'
set -eu
dump="$1"; types="$2"; namespaces="$3"
mkdir -p "$dump/_cluster"
while read -r ns; do
    mkdir -p "$dump/$ns"
    while read -r type scope; do
        [ "$scope" = namespaced ] || continue
        kubectl get "$type" -n "$ns" -o json >"$dump/$ns/$type.json"
    done <"$types"
done <"$namespaces"
while read -r type scope; do
    [ "$scope" = cluster ] || continue
    kubectl get "$type" -o json >"$dump/_cluster/$type.json"
done <"$types"
EOF
    timed bash "$WORK/dump.sh" "$WORK/dump" "$WORK/types" "$WORK/namespaces"
    dumped=$(python3 -c 'import json,os,sys
n=0
for root, _, files in os.walk(sys.argv[1]):
    for f in files: n += len(json.load(open(os.path.join(root, f))).get("items", []))
print(n)' "$WORK/dump")
    row "kubectl get -o json per type+namespace" "$dumped" "$SECONDS_TAKEN" "$RSS_KIB" \
        "$(du -sb "$WORK/dump" | cut -f1)" backup-kubectl
fi

# --- the POST limit and restores -----------------------------------------------------------

log "measuring the POST limit (the same objects into fresh namespaces)"
raw_row "POST limit: raw POSTs, 32 connections" post-limit seed limit "$NAMESPACES"

if [ -n "$backup_name" ]; then
    log "ark restore (into fresh namespaces)"
    mappings=$(for ((k = 0; k < NAMESPACES; k++)); do printf 'bench-%04d:arkr-%04d,' "$k" "$k"; done)
    if HANG_LIMIT=$ARK_HANG_LIMIT timed "$ARK" restore create r-1 --from-backup "$backup_name" --storage-location local \
        --include-namespaces 'bench-*' --namespace-mappings "${mappings%,}"; then
        "$ARK" restore describe r-1 --storage-location local -o json >"$WORK/restore.json"
        restored=$(python3 -c 'import json,sys
counts = json.load(open(sys.argv[1])).get("counts", {})
print(counts, file=sys.stderr)
print(counts.get("created", 0))' "$WORK/restore.json")
        row "ark restore (file://, new namespaces)" "$restored" "$SECONDS_TAKEN" "$RSS_KIB" "" restore
    else
        hung "ark restore (file://, new namespaces)"
    fi
else
    log "no backup to restore from: ark restore not measured"
fi

if [ "$SKIP_KUBECTL" = 0 ]; then
    log "the kubectl way: kubectl create -f of the exported objects"
    $CLIENT kubectl-clean "$WORK/dump" "$WORK/create" bench kctl >/dev/null
    timed bash -c 'for f in "$1"/*.json; do kubectl create -f "$f"; done' _ "$WORK/create"
    row "kubectl create -f per namespace" "$(grep -c ' created$' "$WORK/out")" "$SECONDS_TAKEN" "$RSS_KIB" "" restore-kubectl
fi

# --- the table -----------------------------------------------------------------------------

ARK_VERSION=$("$ARK" version --client 2>/dev/null | awk '{print $NF}')
COMMIT="${ARK_COMMIT:-$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)}" # ARK_COMMIT: the commit ARK_BIN was built from
export N NAMESPACES PAGE_SIZE TUNING ARK_VERSION COMMIT ARK WRITE LOAD_BEFORE
python3 - "$ROWS" "$REPO/docs/BENCHMARKS.md" <<'PY'
import datetime, os, platform, re, subprocess, sys

rows = []
for line in open(sys.argv[1]):
    label, objects, seconds, rss, size, kind, client_cpu, server_cpu = line.rstrip("\n").split("|")
    rows.append(dict(label=label, objects=int(objects), seconds=float(seconds), rss=int(rss or 0) / 1024,
                     size=int(size) if size else None, kind=kind, client_cpu=float(client_cpu),
                     server_cpu=float(server_cpu)))

def best(kind):
    found = [r for r in rows if r["kind"] == kind]
    return min(found, key=lambda r: r["seconds"]) if found else None

list_limit, post_limit = best("list-limit"), best("post-limit")
def ratio(r):
    base = post_limit if r["kind"].startswith(("restore", "post")) else list_limit
    if r["kind"] == "info" or base is None:
        return ""
    return f"{r['seconds'] / base['seconds']:.2f}x"

def size(n):
    if n is None:
        return ""
    return f"{n / 1048576:.1f} MiB"

table = ["| operation | objects | wall s | objects/s | vs limit | peak RSS | archive (raw: bytes moved) | client CPU s | servers CPU s |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    if r["kind"] == "hung":
        table.append(f"| {r['label']} | **did not finish: stopped after {r['seconds']:.0f} s** | | | | "
                     f"{r['rss']:.0f} MiB | | {r['client_cpu']:.1f} | {r['server_cpu']:.1f} |")
        continue
    table.append(f"| {r['label']} | {r['objects']} | {r['seconds']:.2f} | {r['objects'] / r['seconds']:.0f} | "
                 f"{ratio(r)} | {r['rss']:.0f} MiB | {size(r['size'])} | {r['client_cpu']:.1f} | {r['server_cpu']:.1f} |")

checks = []
def check(name, ok, detail):
    checks.append(f"- {'PASS' if ok else 'MISS'} {name}: {detail}")
backup = next((r for r in rows if r["kind"] == "backup" and "file://" in r["label"]), None)
restore = best("restore")
kubectl_get, kubectl_create = best("backup-kubectl"), best("restore-kubectl")
if backup and list_limit:
    x = backup["seconds"] / list_limit["seconds"]
    check("backup <= 1.2x the LIST limit", x <= 1.2, f"{x:.2f}x")
if backup and kubectl_get:
    x = kubectl_get["seconds"] / backup["seconds"]
    check("backup >= 20x faster than kubectl get", x >= 20, f"{x:.1f}x")
if restore and post_limit:
    x = restore["seconds"] / post_limit["seconds"]
    check("restore <= 2x the POST limit", x <= 2, f"{x:.2f}x")
if restore and kubectl_create:
    x = kubectl_create["seconds"] / restore["seconds"]
    check("restore >= 10x faster than kubectl create", x >= 10, f"{x:.1f}x")
for r in rows:
    if r["kind"] == "hung":
        check(f"{r['label']} finishes", False, f"stopped after {r['seconds']:.0f} s")
ark_rss = max(r["rss"] for r in rows if r["label"].startswith("ark "))
check("ark peak RSS < 100 MiB", ark_rss < 100, f"{ark_rss:.0f} MiB")

mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) / 1048576
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
tuning = f", tuning `{os.environ['TUNING']}`" if os.environ["TUNING"] else ""
n = int(os.environ["N"])
header = (f"### {n:,} objects ({os.environ['NAMESPACES']} namespaces), page size {os.environ['PAGE_SIZE']}{tuning}\n\n"
          f"{datetime.date.today().isoformat()}; {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB; "
          f"ark {os.environ['ARK_VERSION']} at commit {os.environ['COMMIT']}; kube-apiserver v1.20.2; "
          f"load average before the run {os.environ['LOAD_BEFORE']}.\n")
block = header + "\n" + "\n".join(table) + "\n\n" + "\n".join(checks) + "\n"
print("\n" + block)

if os.environ["WRITE"] == "1":
    path = sys.argv[2]
    key = f"{n}" + (f" {os.environ['TUNING']}" if os.environ["TUNING"] else "")
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nWritten by `scripts/bench.sh`.\n"
    section = f"{start}\n{block}{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
    print(f"written to {path}", file=sys.stderr)
PY
