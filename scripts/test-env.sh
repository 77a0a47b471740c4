#!/usr/bin/env bash
# The throwaway cluster and bucket ark's tests (and curious users) run against:
# etcd + kube-apiserver + kube-controller-manager v1.20.2 and a moto server (S3 + EC2),
# all on free loopback ports, owned by one directory.
#
#   scripts/test-env.sh install        install etcd, build/cache the Kubernetes binaries, moto venv
#   scripts/test-env.sh up [DIR]       install if needed, start everything, write DIR/kubeconfig, DIR/env
#   scripts/test-env.sh down [DIR]     stop everything started in DIR and remove it
#   scripts/test-env.sh status [DIR]   exit 0 when the environment in DIR answers
#
# DIR defaults to $ARK_TEST_ENV_DIR or /tmp/ark-test-env. Binaries are cached under
# $ARK_CACHE_DIR (default ~/.cache/ark-test-env), keyed by version, so only the first run builds.
# KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN may point at binaries you already
# have (an envtest download, say); MOTO_SERVER_BIN at a moto_server you installed.
# Azurite and fake-gcs-server (behind our Python front, scripts/env/gcs-front.py) serve az:// and
# gs:// locations (scripts/env/object-stores.sh).
set -euo pipefail

KUBE_SRC_VERSION="1.20.5+really1.20.2"
CACHE="${ARK_CACHE_DIR:-$HOME/.cache/ark-test-env}"
KUBE_CACHE="$CACHE/kubernetes-$KUBE_SRC_VERSION"
MOTO_VENV="$CACHE/moto-venv"
DIR="${2:-${ARK_TEST_ENV_DIR:-/tmp/ark-test-env}}"

log() { echo "test-env: $*" >&2; }
die() { echo "test-env: error: $*" >&2; exit 1; }
# shellcheck source=scripts/env/object-stores.sh
source "$(dirname "${BASH_SOURCE[0]}")/env/object-stores.sh"

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

ensure_deb_src() {
    if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ \
        && ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/; then
        log "adding a deb-src entry for bookworm"
        as_root tee /etc/apt/sources.list.d/ark-deb-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        as_root apt-get update -qq
    fi
}

# Debian 12 ships Kubernetes 1.20.2's source with its Go dependencies vendored; nothing else is
# reachable here. Build once, cache by version.
build_kubernetes() {
    [ -x "$KUBE_CACHE/kube-apiserver" ] && [ -x "$KUBE_CACHE/kube-controller-manager" ] && return 0
    apt_install golang-go rsync dpkg-dev golang-github-modern-go-reflect2-dev
    ensure_deb_src
    local work
    work="$(mktemp -d "${TMPDIR:-/tmp}/ark-kube-build.XXXXXX")"
    log "building kube-apiserver and kube-controller-manager $KUBE_SRC_VERSION in $work (about 4 minutes)"
    (
        cd "$work"
        apt-get source -qq "kubernetes=$KUBE_SRC_VERSION" >/dev/null 2>&1 \
            || apt-get source -qq kubernetes/bookworm >/dev/null
        cd kubernetes-*/
        # The vendored reflect2 v1.0.1 crashes the apiserver under Go >= 1.18; use Debian's v1.0.2.
        rm -rf vendor/github.com/modern-go/reflect2
        cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/
        rm -f vendor/github.com/modern-go/reflect2/*_test.go vendor/github.com/modern-go/reflect2/go.mod
        export GOPATH="$PWD/.go" CGO_ENABLED=0 GOFLAGS=-mod=vendor
        mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes
        HOME="$work/home" make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$work/build.log" 2>&1 \
            || { tail -30 "$work/build.log" >&2; exit 1; }
        mkdir -p "$KUBE_CACHE.tmp"
        cp _output/bin/kube-apiserver _output/bin/kube-controller-manager "$KUBE_CACHE.tmp/"
    )
    rm -rf "$KUBE_CACHE"
    mv "$KUBE_CACHE.tmp" "$KUBE_CACHE"
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
    log "cached in $KUBE_CACHE"
}

install_moto() {
    [ -n "${MOTO_SERVER_BIN:-}" ] && return 0
    [ -x "$MOTO_VENV/bin/moto_server" ] && return 0
    apt_install python3-venv
    log "installing moto[server] into $MOTO_VENV"
    python3 -m venv "$MOTO_VENV.tmp"
    "$MOTO_VENV.tmp/bin/pip" install -q 'moto[server]>=5,<6'
    rm -rf "$MOTO_VENV"
    mv "$MOTO_VENV.tmp" "$MOTO_VENV"
    # venv scripts name their interpreter by absolute path; rewrite it after the move.
    sed -i "1s|.*|#!$MOTO_VENV/bin/python3|" "$MOTO_VENV/bin/moto_server" "$MOTO_VENV/bin/pip"
}

install_all() {
    apt_install openssl curl jq python3
    # The tests also drive kubectl, a terminal (tmux) and man.
    command -v kubectl >/dev/null || apt_install kubernetes-client
    command -v tmux >/dev/null || apt_install tmux
    command -v man >/dev/null || apt_install man-db
    if [ -z "${ETCD_BIN:-}" ]; then apt_install etcd-server; fi
    if [ -z "${KUBE_APISERVER_BIN:-}" ] || [ -z "${KUBE_CONTROLLER_MANAGER_BIN:-}" ]; then build_kubernetes; fi
    install_moto
    object_stores_install
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # what, seconds, command...
    local what="$1" secs="$2"; shift 2
    local i
    for ((i = 0; i < secs * 10; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
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
    if status >/dev/null 2>&1; then
        log "already running in $DIR"
        return 0
    fi
    install_all
    down_quiet
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    local etcd="${ETCD_BIN:-etcd}"
    local apiserver="${KUBE_APISERVER_BIN:-$KUBE_CACHE/kube-apiserver}"
    local kcm="${KUBE_CONTROLLER_MANAGER_BIN:-$KUBE_CACHE/kube-controller-manager}"
    local moto="${MOTO_SERVER_BIN:-$MOTO_VENV/bin/moto_server}"
    local pe pp pa pm
    pe=$(free_port); pp=$(free_port); pa=$(free_port); pm=$(free_port)

    start etcd "$etcd" --data-dir "$DIR/etcd" --listen-client-urls "http://127.0.0.1:$pe" \
        --advertise-client-urls "http://127.0.0.1:$pe" --listen-peer-urls "http://127.0.0.1:$pp" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pp" --initial-cluster "default=http://127.0.0.1:$pp" \
        --quota-backend-bytes 8589934592
    start moto "$moto" -H 127.0.0.1 -p "$pm"

    openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
    local token
    token="$(openssl rand -hex 16)"
    printf '%s,admin,admin,system:masters\n%s,restricted,restricted,ark-restricted\n' \
        "$token" "restricted-$token" >"$DIR/tokens.csv"
    wait_for etcd 30 curl -sf "http://127.0.0.1:$pe/health"

    start apiserver "$apiserver" --etcd-servers "http://127.0.0.1:$pe" --secure-port "$pa" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --insecure-port 0 \
        --cert-dir "$DIR/certs" --token-auth-file "$DIR/tokens.csv" --authorization-mode RBAC \
        --service-account-key-file "$DIR/sa.pub" --service-account-signing-key-file "$DIR/sa.key" \
        --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.0.0.0/24 \
        --disable-admission-plugins ServiceAccount --max-requests-inflight 800 \
        --max-mutating-requests-inflight 400
    wait_for "kube-apiserver" 60 test -s "$DIR/certs/apiserver.crt"
    wait_for "kube-apiserver" 60 curl -sf --cacert "$DIR/certs/apiserver.crt" \
        -H "Authorization: Bearer $token" "https://127.0.0.1:$pa/readyz"

    write_kubeconfig "$DIR/kubeconfig" admin "$token" "$pa"
    write_kubeconfig "$DIR/kubeconfig-restricted" restricted "restricted-$token" "$pa"
    start controller-manager "$kcm" --kubeconfig "$DIR/kubeconfig" \
        --controllers namespace,garbagecollector,serviceaccount,deployment,replicaset,statefulset,job,pvc-protection,pv-protection,persistentvolume-binder \
        --service-account-private-key-file "$DIR/sa.key" --use-service-account-credentials=false \
        --leader-elect=false --secure-port 0 --port 0
    wait_for moto 30 curl -sf "http://127.0.0.1:$pm/moto-api/"

    cat >"$DIR/env" <<EOF
export KUBECONFIG=$DIR/kubeconfig
export ARK_TEST_ENV_DIR=$DIR
export ARK_TEST_KUBECONFIG=$DIR/kubeconfig
export ARK_TEST_KUBECONFIG_RESTRICTED=$DIR/kubeconfig-restricted
export ARK_TEST_S3_ENDPOINT=http://127.0.0.1:$pm
export ARK_TEST_APISERVER=https://127.0.0.1:$pa
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
EOF
    chmod 600 "$DIR/env" "$DIR/kubeconfig" "$DIR/kubeconfig-restricted" "$DIR/tokens.csv"
    object_stores_up
    log "ready: apiserver https://127.0.0.1:$pa, moto http://127.0.0.1:$pm"
    log "use it with: source $DIR/env"
}

write_kubeconfig() { # file user token port
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ark-test
  cluster:
    server: https://127.0.0.1:$4
    certificate-authority: $DIR/certs/apiserver.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: ark-test-$2
  context:
    cluster: ark-test
    user: $2
    namespace: default
current-context: ark-test-$2
EOF
}

status() {
    [ -f "$DIR/env" ] || { echo "not running (no $DIR/env)"; return 1; }
    local pidf
    for pidf in "$DIR"/*.pid; do
        kill -0 "$(cat "$pidf")" 2>/dev/null || { echo "$(basename "$pidf" .pid) is not running"; return 1; }
    done
    # shellcheck disable=SC1091
    (
        source "$DIR/env"
        KUBECONFIG="$DIR/kubeconfig" kubectl get --raw /readyz >/dev/null 2>&1 \
            || curl -sf --cacert "$DIR/certs/apiserver.crt" \
                -H "Authorization: Bearer $(head -1 "$DIR/tokens.csv" | cut -d, -f1)" "$ARK_TEST_APISERVER/readyz" >/dev/null
        curl -sf "$ARK_TEST_S3_ENDPOINT/moto-api/" >/dev/null
    ) || { echo "not answering"; return 1; }
    echo "running in $DIR"
}

down_quiet() {
    [ -d "$DIR" ] || return 0
    local name pidf pid
    object_stores_down
    # Controller manager first, so it does not log a storm of errors while the apiserver goes.
    for name in controller-manager apiserver moto etcd; do
        pidf="$DIR/$name.pid"
        [ -f "$pidf" ] || continue
        pid="$(cat "$pidf")"
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 -- "-$pid" 2>/dev/null || true
        rm -f "$pidf"
    done
    rm -rf "$DIR"
}

case "${1:-}" in
    install) install_all ;;
    up) up ;;
    down) down_quiet; log "stopped" ;;
    status) status ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
