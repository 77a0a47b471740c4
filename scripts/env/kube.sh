# shellcheck shell=bash
# Kubernetes for the test environment: etcd, kube-apiserver and kube-controller-manager (no
# scheduler, no kubelet), in the version ARK_TEST_KUBE picks per environment:
#   current  Kubernetes $KUBE_CURRENT_VERSION, built from the Go module proxy (k8s.io/kubernetes)
#   1.20     Kubernetes 1.20.2, built from Debian 12's source package: the oldest ark supports,
#            with legacy discovery only
# Both run over etcd $ETCD_VERSION, built from the Go module proxy (go.etcd.io/etcd/server/v3):
# Kubernetes 1.37 wants etcd 3.5 or newer, and 1.20's client works with it.
# Sourced by scripts/test-env.sh; uses its log/die/apt_install/start/wait_for/free_port, $DIR
# and $CACHE. KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN may point at binaries
# you already have (an envtest download, say): the flags follow the version the apiserver reports.
# KUBE_APISERVER_FLAGS adds flags of your own (--feature-gates=..., say), split at spaces.

KUBE_CURRENT_VERSION=v1.37.2
KUBE_120_SRC_VERSION="1.20.5+really1.20.2"
ETCD_VERSION=v3.6.16
ETCD_CACHE="$CACHE/etcd-$ETCD_VERSION"

# What ark's tests rely on: namespace deletion and garbage collection finish, a Deployment makes
# ReplicaSets and Pods, default ServiceAccounts appear, PVCs and PVs lose their protection
# finalizers and static PVs bind to matching claims. Current releases call these
# namespace-controller and so on, and keep the old names as aliases for good.
KUBE_CONTROLLERS=namespace,garbagecollector,serviceaccount,deployment,replicaset,statefulset,job,pvc-protection,pv-protection,persistentvolume-binder

kube_cache() { # flavour -> the directory of its cached binaries
    case "$1" in
        current) echo "$CACHE/kubernetes-$KUBE_CURRENT_VERSION" ;;
        1.20) echo "$CACHE/kubernetes-$KUBE_120_SRC_VERSION" ;;
        *) die "ARK_TEST_KUBE must be current or 1.20, not '$1'" ;;
    esac
}

# The flavour an environment file records (files written before there was a choice ran 1.20).
kube_flavour_of() { # env file
    local flavour
    flavour="$(sed -n 's/^export ARK_TEST_KUBE=//p' "$1")"
    echo "${flavour:-1.20}"
}

# The flavour DIR is to run: ARK_TEST_KUBE; else, for the "-second" cluster tests start beside a
# first one, the first one's (the two must agree); else current.
kube_flavour() {
    if [ -n "${ARK_TEST_KUBE:-}" ]; then
        echo "$ARK_TEST_KUBE"
    elif [ "${DIR%-second}" != "$DIR" ] && [ -f "${DIR%-second}/env" ]; then
        kube_flavour_of "${DIR%-second}/env"
    else
        echo current
    fi
}

# The build stamps the version the way Kubernetes' own build does (hack/lib/version.sh), so that
# /version and --version say v1.37.2 rather than v0.0.0-master.
kube_build_current() {
    local bins info ldflags="" pkg minor="${KUBE_CURRENT_VERSION#v1.}"
    bins="$(kube_cache current)"
    [ -x "$bins/kube-apiserver" ] && [ -x "$bins/kube-controller-manager" ] && return 0
    apt_install jq
    log "building kube-apiserver and kube-controller-manager $KUBE_CURRENT_VERSION from the Go module proxy (about 6 minutes on 2 free cores)"
    local started=$SECONDS
    info="$(go_env && go mod download -json "k8s.io/kubernetes@$KUBE_CURRENT_VERSION" | jq -r .Info)"
    for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        ldflags+=" -X $pkg.gitVersion=$KUBE_CURRENT_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
        ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(jq -r .Time "$info")"
    done
    # Each staging module k/k replaces by ./staging/src/k8s.io/X is published as k8s.io/X v0.N.M.
    go_build_module k8s.io/kubernetes "$KUBE_CURRENT_VERSION" "v0.${KUBE_CURRENT_VERSION#v1.}" "$bins" "$ldflags" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
    log "cached in $bins after $((SECONDS - started)) s"
}

# Debian 12 ships Kubernetes 1.20.2's source with its Go dependencies vendored (the proxy does
# not serve releases that old). Build once, cache by version.
kube_build_120() {
    local bins work
    bins="$(kube_cache 1.20)"
    [ -x "$bins/kube-apiserver" ] && [ -x "$bins/kube-controller-manager" ] && return 0
    apt_install rsync dpkg-dev golang-github-modern-go-reflect2-dev
    # Any Go from 1.19 (Debian's) on builds this one.
    command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || apt_install golang-go
    ensure_deb_src
    work="$(mktemp -d "${TMPDIR:-/tmp}/ark-kube-build.XXXXXX")"
    log "building kube-apiserver and kube-controller-manager $KUBE_120_SRC_VERSION in $work (about 4 minutes)"
    local started=$SECONDS
    (
        trap 'tail -30 "$work/build.log" >&2 2>/dev/null; log "building Kubernetes $KUBE_120_SRC_VERSION in $work failed"' ERR
        go_env
        cd "$work" || exit 1
        apt-get source -qq "kubernetes=$KUBE_120_SRC_VERSION" >/dev/null 2>&1 \
            || apt-get source -qq kubernetes/bookworm >/dev/null
        cd kubernetes-*/ || exit 1
        # The vendored reflect2 v1.0.1 crashes the apiserver under Go >= 1.18; use Debian's v1.0.2.
        rm -rf vendor/github.com/modern-go/reflect2
        cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/
        rm -f vendor/github.com/modern-go/reflect2/*_test.go vendor/github.com/modern-go/reflect2/go.mod
        export GOPATH="$PWD/.go" GOFLAGS=-mod=vendor
        mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes
        HOME="$work/home" nice -n 10 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$work/build.log" 2>&1
        rm -rf "$bins.tmp"
        mkdir -p "$bins.tmp"
        cp _output/bin/kube-apiserver _output/bin/kube-controller-manager "$bins.tmp/"
    )
    rm -rf "$bins"
    mv "$bins.tmp" "$bins"
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
    log "cached in $bins after $((SECONDS - started)) s"
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

# etcd's main package is the server module's root (what its own build calls the etcd binary).
etcd_build() {
    [ -x "$ETCD_CACHE/etcd" ] && return 0
    apt_install jq
    log "building etcd $ETCD_VERSION from the Go module proxy (about a minute)"
    local started=$SECONDS
    go_build_module go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION" "$ETCD_CACHE" "" etcd=go.etcd.io/etcd/server/v3
    log "cached in $ETCD_CACHE after $((SECONDS - started)) s"
}

# kube_install [FLAVOUR...]: etcd and the named Kubernetes versions (default: both), unless
# the *_BIN variables name binaries already.
kube_install() {
    [ -n "${ETCD_BIN:-}" ] || etcd_build
    [ -z "${KUBE_APISERVER_BIN:-}" ] || [ -z "${KUBE_CONTROLLER_MANAGER_BIN:-}" ] || return 0
    local flavour flavours=("$@")
    [ $# -gt 0 ] || flavours=(current 1.20)
    for flavour in "${flavours[@]}"; do
        case "$flavour" in
            current) kube_build_current ;;
            1.20) kube_build_120 ;;
            *) kube_cache "$flavour" >/dev/null ;;
        esac
    done
}

# kube_up FLAVOUR: etcd, kube-apiserver and kube-controller-manager on free ports, with an admin
# token (system:masters) and a restricted one (group ark-restricted, no RBAC of its own), and
# kubeconfigs for both. Sets KUBE_VERSION, KUBE_PORT.
kube_up() {
    local bins etcd apiserver kcm pe pp token minor
    bins="$(kube_cache "$1")"
    etcd="${ETCD_BIN:-$ETCD_CACHE/etcd}"
    apiserver="${KUBE_APISERVER_BIN:-$bins/kube-apiserver}"
    kcm="${KUBE_CONTROLLER_MANAGER_BIN:-$bins/kube-controller-manager}"
    KUBE_VERSION="$("$apiserver" --version 2>/dev/null | sed -n 's/^Kubernetes //p')" || true
    minor="${KUBE_VERSION#v1.}"
    minor="${minor%%[!0-9]*}"
    [ -n "$minor" ] || die "$apiserver --version does not name a Kubernetes 1.x version"
    pe=$(free_port); pp=$(free_port); KUBE_PORT=$(free_port)

    start etcd "$etcd" --data-dir "$DIR/etcd" --listen-client-urls "http://127.0.0.1:$pe" \
        --advertise-client-urls "http://127.0.0.1:$pe" --listen-peer-urls "http://127.0.0.1:$pp" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pp" --initial-cluster "default=http://127.0.0.1:$pp" \
        --quota-backend-bytes 8589934592

    openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
    token="$(openssl rand -hex 16)"
    printf '%s,admin,admin,system:masters\n%s,restricted,restricted,ark-restricted\n' \
        "$token" "restricted-$token" >"$DIR/tokens.csv"
    wait_for etcd 30 curl -sf "http://127.0.0.1:$pe/health"

    # Until 1.24 both servers also served plain HTTP unless told not to (--insecure-port,
    # --port); later releases removed the flags. No endpoint reconciler: the `kubernetes`
    # Service's endpoints would be 127.0.0.1, which the API refuses (1.20 logs that every 10 s,
    # current releases do not start), and nothing here could use them.
    local apiserver_version_flags=() kcm_version_flags=() extra_flags=()
    read -ra extra_flags <<<"${KUBE_APISERVER_FLAGS:-}"
    if [ "$minor" -lt 24 ]; then apiserver_version_flags=(--insecure-port 0); kcm_version_flags=(--port 0); fi
    start apiserver "$apiserver" --etcd-servers "http://127.0.0.1:$pe" --secure-port "$KUBE_PORT" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 "${apiserver_version_flags[@]}" \
        --cert-dir "$DIR/certs" --token-auth-file "$DIR/tokens.csv" --authorization-mode RBAC \
        --service-account-key-file "$DIR/sa.pub" --service-account-signing-key-file "$DIR/sa.key" \
        --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.0.0.0/24 \
        --disable-admission-plugins ServiceAccount --max-requests-inflight 800 \
        --max-mutating-requests-inflight 400 --endpoint-reconciler-type none "${extra_flags[@]}"
    wait_for apiserver 60 test -s "$DIR/certs/apiserver.crt"
    wait_for apiserver 60 curl -sf --cacert "$DIR/certs/apiserver.crt" \
        -H "Authorization: Bearer $token" "https://127.0.0.1:$KUBE_PORT/readyz"

    write_kubeconfig "$DIR/kubeconfig" admin "$token"
    write_kubeconfig "$DIR/kubeconfig-restricted" restricted "restricted-$token"
    chmod 600 "$DIR/kubeconfig" "$DIR/kubeconfig-restricted" "$DIR/tokens.csv"
    start controller-manager "$kcm" --kubeconfig "$DIR/kubeconfig" --controllers "$KUBE_CONTROLLERS" \
        --service-account-private-key-file "$DIR/sa.key" --use-service-account-credentials=false \
        --leader-elect=false --secure-port 0 "${kcm_version_flags[@]}"
}

write_kubeconfig() { # file user token
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ark-test
  cluster:
    server: https://127.0.0.1:$KUBE_PORT
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
