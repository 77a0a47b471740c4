#!/usr/bin/env bash
# The throwaway cluster and bucket ark's tests (and curious users) run against: etcd,
# kube-apiserver and kube-controller-manager, and a moto server (S3 + EC2), all on free loopback
# ports, owned by one directory.
#
#   scripts/test-env.sh install        build/cache etcd and both Kubernetes versions, moto venv
#   scripts/test-env.sh up [DIR]       install if needed, start everything, write DIR/kubeconfig, DIR/env
#   scripts/test-env.sh down [DIR]     stop everything started in DIR and remove it
#   scripts/test-env.sh status [DIR]   exit 0 when the environment in DIR answers
#
# DIR defaults to $ARK_TEST_ENV_DIR or /tmp/ark-test-env. ARK_TEST_KUBE picks the Kubernetes `up`
# starts: current (v1.37.2, the default) or 1.20 (v1.20.2); DIR-second follows DIR's choice.
# Binaries are cached under $ARK_CACHE_DIR (default ~/.cache/ark-test-env), keyed by version, so
# only the first run builds. KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN may
# point at binaries you already have (an envtest download, say); MOTO_SERVER_BIN at a moto_server;
# KUBE_APISERVER_FLAGS adds apiserver flags (split at spaces).
# ARK_TEST_CSI=1 adds a CSI stack with volume snapshots (scripts/env/csi.sh); ARK_TEST_VELERO=1
# the real Velero server (scripts/env/velero.sh).
# Azurite and fake-gcs-server (behind our Python front, scripts/env/gcs-front.py) serve az:// and
# gs:// locations (scripts/env/object-stores.sh).
set -euo pipefail

CACHE="${ARK_CACHE_DIR:-$HOME/.cache/ark-test-env}"
DIR="${2:-${ARK_TEST_ENV_DIR:-/tmp/ark-test-env}}"

log() { echo "test-env: $*" >&2; }
die() { echo "test-env: error: $*" >&2; exit 1; }

# Each component's install/start functions live in its own file.
ENV_SCRIPTS="$(dirname "${BASH_SOURCE[0]}")/env"
# shellcheck source=scripts/env/go.sh
source "$ENV_SCRIPTS/go.sh"
# shellcheck source=scripts/env/kube.sh
source "$ENV_SCRIPTS/kube.sh"
# shellcheck source=scripts/env/moto.sh
source "$ENV_SCRIPTS/moto.sh"
# shellcheck source=scripts/env/velero.sh
source "$ENV_SCRIPTS/velero.sh"
# shellcheck source=scripts/env/csi.sh
source "$ENV_SCRIPTS/csi.sh"
# shellcheck source=scripts/env/object-stores.sh
source "$ENV_SCRIPTS/object-stores.sh"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]} from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# install_all [KUBE FLAVOUR...]: everything `up` needs; Kubernetes in the named versions (all).
install_all() {
    apt_install openssl curl jq python3
    # The tests also drive kubectl, a terminal (tmux) and man.
    command -v kubectl >/dev/null || apt_install kubernetes-client
    command -v tmux >/dev/null || apt_install tmux
    command -v man >/dev/null || apt_install man-db
    kube_install "$@"
    moto_install
    object_stores_install
    if velero_wanted; then velero_install; fi
    if [ "${ARK_TEST_CSI:-}" = 1 ]; then csi_install; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # what (a name start was given, or not), seconds, command...
    local what="$1" secs="$2"; shift 2
    local i
    for ((i = 0; i < secs * 10; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        if [ -f "$DIR/$what.pid" ] && ! alive "$(cat "$DIR/$what.pid")"; then
            tail -5 "$DIR/$what.log" >&2
            die "$what exited (log in $DIR/$what.log)"
        fi
        sleep 0.1
    done
    die "$what did not become ready within ${secs}s (logs in $DIR/*.log)"
}

start() { # name, command... ; runs detached, records the pid
    local name="$1"; shift
    setsid "$@" >"$DIR/$name.log" 2>&1 < /dev/null &
    echo $! >"$DIR/$name.pid"
}

up() {
    local flavour
    flavour="$(kube_flavour)"
    if status >/dev/null 2>&1; then
        # Callers that do not choose (a test binary's `up`) take what runs.
        if [ -n "${ARK_TEST_KUBE:-}" ] && [ "$(kube_flavour_of "$DIR/env")" != "$ARK_TEST_KUBE" ]; then
            die "$DIR runs Kubernetes $(kube_flavour_of "$DIR/env"), not $ARK_TEST_KUBE: stop it first (scripts/test-env.sh down $DIR)"
        fi
        log "already running in $DIR"
        velero_hook_up
        return 0
    fi
    install_all "$flavour"
    down_quiet
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    # A failed start leaves nothing running, and its logs for a look.
    trap 'stop_processes; log "up failed; logs in $DIR"' EXIT
    moto_start
    kube_up "$flavour"
    moto_wait

    cat >"$DIR/env" <<EOF
export KUBECONFIG=$DIR/kubeconfig
export ARK_TEST_ENV_DIR=$DIR
export ARK_TEST_KUBE=$flavour
export ARK_TEST_KUBE_VERSION=$KUBE_VERSION
export ARK_TEST_KUBECONFIG=$DIR/kubeconfig
export ARK_TEST_KUBECONFIG_RESTRICTED=$DIR/kubeconfig-restricted
export ARK_TEST_S3_ENDPOINT=http://127.0.0.1:$MOTO_PORT
export ARK_TEST_APISERVER=https://127.0.0.1:$KUBE_PORT
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
EOF
    chmod 600 "$DIR/env"
    object_stores_up
    if [ "${ARK_TEST_CSI:-}" = 1 ]; then csi_up; fi
    velero_hook_up
    trap - EXIT
    log "ready: Kubernetes $KUBE_VERSION at https://127.0.0.1:$KUBE_PORT, moto http://127.0.0.1:$MOTO_PORT"
    log "use it with: source $DIR/env"
}

status() {
    [ -f "$DIR/env" ] || { echo "not running (no $DIR/env)"; return 1; }
    local pidf
    for pidf in "$DIR"/*.pid; do
        alive "$(cat "$pidf")" || { echo "$(basename "$pidf" .pid) is not running"; return 1; }
    done
    # shellcheck disable=SC1091
    (
        source "$DIR/env"
        KUBECONFIG="$DIR/kubeconfig" kubectl get --raw /readyz >/dev/null 2>&1 \
            || curl -sf --cacert "$DIR/certs/apiserver.crt" \
                -H "Authorization: Bearer $(head -1 "$DIR/tokens.csv" | cut -d, -f1)" "$ARK_TEST_APISERVER/readyz" >/dev/null
        curl -sf "$ARK_TEST_S3_ENDPOINT/moto-api/" >/dev/null
    ) || { echo "not answering"; return 1; }
    echo "running in $DIR: Kubernetes $(sed -n 's/^export ARK_TEST_KUBE_VERSION=//p' "$DIR/env")"
}

# A process that has exited but is not yet reaped (its parent is init by now) is not alive.
alive() { # pid
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$state" != Z* ]]
}

# Stops every process `start` started in DIR: the apiserver's clients first (the controller
# manager and whatever else talks to it), so they do not log a storm of errors while it goes,
# then the apiserver, then etcd.
stop_processes() {
    local pidf pid name last=(apiserver etcd)
    local pidfs=()
    for pidf in "$DIR"/*.pid; do
        [ -f "$pidf" ] || continue
        name="$(basename "$pidf" .pid)"
        [[ " ${last[*]} " == *" $name "* ]] || pidfs+=("$pidf")
    done
    for name in "${last[@]}"; do pidfs+=("$DIR/$name.pid"); done
    for pidf in "${pidfs[@]}"; do
        [ -f "$pidf" ] || continue
        pid="$(cat "$pidf")"
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        kill -9 -- "-$pid" 2>/dev/null || true
        rm -f "$pidf"
    done
}

down_quiet() {
    [ -d "$DIR" ] || return 0
    stop_processes
    rm -rf "$DIR"
}

case "${1:-}" in
    install) install_all ;;
    up) up ;;
    down) down_quiet; log "stopped" ;;
    status) status ;;
    *) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 2 ;;
esac
