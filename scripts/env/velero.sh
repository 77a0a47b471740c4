# shellcheck shell=bash
# The real Velero beside the test cluster, so tests can prove that Velero restores ark's backups
# and ark restores Velero's. Sourced by scripts/test-env.sh, whose CACHE, DIR, log, die, start,
# wait_for and free_port it uses; ARK_TEST_VELERO=1 turns it on.
#
#   velero_install   build `velero` (server and CLI in one) and the AWS plugin from the Go module
#                    proxy, cached under $CACHE/velero-vX and $CACHE/velero-plugin-for-aws-vY
#   velero_start     against DIR/kubeconfig and moto: CRDs, namespace velero, a bucket, the
#                    BackupStorageLocation and VolumeSnapshotLocation `default`, a zero-replica
#                    Deployment `velero`, then `velero server` outside the cluster (pid in
#                    DIR/velero.pid, log in DIR/velero.log); `down` stops it through that pid
#                    file, as it stops the cluster. Adds ARK_TEST_VELERO_* to DIR/env.
#
# VELERO_BIN and VELERO_PLUGIN_AWS_BIN may point at binaries you already have; VELERO_SERVER_ARGS
# adds server flags (e.g. --features=EnableAPIGroupVersions); VELERO_LOG_LEVEL (default info).

VELERO_VERSION="${VELERO_VERSION:-v1.18.3}"
# Velero's compatibility matrix (velero-plugin-for-aws README) pairs plugin v1.14.x with Velero 1.18.x.
VELERO_PLUGIN_AWS_VERSION="${VELERO_PLUGIN_AWS_VERSION:-v1.14.3}"
VELERO_CACHE="$CACHE/velero-$VELERO_VERSION"
# Dependencies required at a later patch release than Velero's go.mod names, because the module
# proxy here does not serve the pinned one: k8s.io/cli-runtime v0.33.12 answers 403 "This module
# version is not available"; v0.33.13 is served and builds (it lifts k8s.io/api, apimachinery and
# client-go to v0.33.13 too).
VELERO_DEP_BUMPS="${VELERO_DEP_BUMPS-k8s.io/cli-runtime@v0.33.13}"
VELERO_PLUGIN_AWS_CACHE="$CACHE/velero-plugin-for-aws-$VELERO_PLUGIN_AWS_VERSION"
VELERO_NAMESPACE=velero
VELERO_BUCKET=velero

velero_bin() { echo "${VELERO_BIN:-$VELERO_CACHE/velero}"; }
velero_plugin_aws_bin() { echo "${VELERO_PLUGIN_AWS_BIN:-$VELERO_PLUGIN_AWS_CACHE/velero-plugin-for-aws}"; }

# Velero's go.mod has replace lines (a kopia fork), so `go install velero@version` refuses: go.sh's
# wrapper module repeats them. The AWS plugin's go.mod has none: it is built as released.
build_velero() {
    [ -x "$VELERO_CACHE/velero" ] && return 0
    local module=github.com/vmware-tanzu/velero
    log "building velero $VELERO_VERSION (several minutes on 2 cores)"
    GO_REQUIRE="$VELERO_DEP_BUMPS" go_build_module "$module" "$VELERO_VERSION" "$VELERO_VERSION" "$VELERO_CACHE" \
        "-X $module/pkg/buildinfo.Version=$VELERO_VERSION -X $module/pkg/buildinfo.GitTreeState=clean" \
        "$module/cmd/velero"
    log "cached in $VELERO_CACHE"
}

build_velero_plugin_aws() {
    [ -x "$VELERO_PLUGIN_AWS_CACHE/velero-plugin-for-aws" ] && return 0
    log "building velero-plugin-for-aws $VELERO_PLUGIN_AWS_VERSION"
    go_install_module github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws \
        "$VELERO_PLUGIN_AWS_VERSION" "$VELERO_PLUGIN_AWS_CACHE"
    log "cached in $VELERO_PLUGIN_AWS_CACHE"
}

velero_install() {
    [ -n "${VELERO_BIN:-}" ] || build_velero
    [ -n "${VELERO_PLUGIN_AWS_BIN:-}" ] || build_velero_plugin_aws
}

velero_wanted() { [ "${ARK_TEST_VELERO:-0}" = 1 ]; }

# The user the server runs as. Velero's image runs as non-root, and its archive extractor behaves
# differently then (it creates missing parent directories with the mode of the file it extracts),
# so a root test environment drops to nobody; a non-root one runs the server as itself.
velero_server_user_prefix() {
    if [ "$(id -u)" = 0 ]; then echo "setpriv --reuid nobody --regid nogroup --clear-groups"; fi
}

velero_kubectl() { kubectl --kubeconfig "$DIR/kubeconfig" "$@"; }

# Everything the server reads lives in DIR/velero, owned by the server's user: copies of the two
# binaries (the cache under root's home is not readable by nobody), a kubeconfig, the apiserver's
# CA, the moto credentials, and its HOME and TMPDIR (Velero extracts archives and writes secret
# files under TMPDIR).
velero_prepare_rundir() { # s3-endpoint
    local run="$DIR/velero"
    mkdir -p "$run/plugins" "$run/tmp" "$run/home"
    cp "$(velero_bin)" "$run/velero"
    cp "$(velero_plugin_aws_bin)" "$run/plugins/velero-plugin-for-aws"
    cp "$DIR/certs/apiserver.crt" "$run/apiserver.crt"
    sed "s|certificate-authority: .*|certificate-authority: $run/apiserver.crt|" "$DIR/kubeconfig" >"$run/kubeconfig"
    printf '[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n' >"$run/credentials"
    chmod 700 "$run" && chmod 600 "$run/kubeconfig" "$run/credentials"
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody:nogroup "$run"
        # nobody has to reach DIR/velero; DIR stays unlistable and its own files stay 0600.
        chmod o+x "$DIR"
    fi
}

# The locations `default`, and a Deployment `velero` scaled to zero where Velero's own would run:
# Velero's documented way to run the server locally keeps the installed Deployment at zero
# replicas, and its pod-volume restore action reads that Deployment's image (without it every
# restore of a pod ends PartiallyFailed with 'deployments.apps "velero" not found').
velero_apply_objects() { # s3-endpoint
    velero_kubectl apply -f - >/dev/null <<EOF2
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata:
  name: default
  namespace: $VELERO_NAMESPACE
spec:
  provider: aws
  default: true
  objectStorage:
    bucket: $VELERO_BUCKET
  config:
    region: us-east-1
    s3Url: $1
    s3ForcePathStyle: "true"
---
apiVersion: velero.io/v1
kind: VolumeSnapshotLocation
metadata:
  name: default
  namespace: $VELERO_NAMESPACE
spec:
  provider: aws
  config:
    region: us-east-1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: velero
  namespace: $VELERO_NAMESPACE
  labels: {component: velero}
spec:
  replicas: 0
  selector:
    matchLabels: {deploy: velero}
  template:
    metadata:
      labels: {component: velero, deploy: velero}
    spec:
      containers:
      - name: velero
        image: velero/velero:$VELERO_VERSION
        command: [/velero]
        args: [server]
EOF2
}

velero_start() {
    local endpoint run pm pp
    # shellcheck disable=SC1091
    endpoint="$(. "$DIR/env" && echo "$ARK_TEST_S3_ENDPOINT")"
    run="$DIR/velero"
    velero_install
    log "starting velero $VELERO_VERSION (plugin for AWS $VELERO_PLUGIN_AWS_VERSION)"

    # Kubernetes 1.20 rejects the `default: ""` Velero's CRDs give secret-reference names ("in body
    # must be of type string: null"); an empty-string default is the same as none, so drop them.
    "$(velero_bin)" install --crds-only --dry-run -o json \
        | jq 'walk(if type == "object" and .default == "" then del(.default) else . end)' \
        | velero_kubectl apply -f - >/dev/null
    velero_kubectl wait --for condition=established --timeout=60s crd -l component=velero >/dev/null
    velero_kubectl create namespace "$VELERO_NAMESPACE" >/dev/null 2>&1 \
        || velero_kubectl get namespace "$VELERO_NAMESPACE" >/dev/null
    curl -sf -X PUT "$endpoint/$VELERO_BUCKET" >/dev/null \
        || curl -sf "$endpoint/$VELERO_BUCKET?list-type=2&max-keys=1" >/dev/null \
        || die "create bucket $VELERO_BUCKET on moto"
    velero_apply_objects "$endpoint"
    velero_prepare_rundir

    local pm pp
    pm=$(free_port); pp=$(free_port)
    # The AWS plugin's VolumeSnapshotLocation has no endpoint setting; the AWS SDK v2 in the plugin
    # (a child of the server, which inherits its environment) reads AWS_ENDPOINT_URL_EC2.
    # KUBECONFIG as well as --kubeconfig: with EnableAPIGroupVersions, restore builds a second client
    # from the environment alone (to read its enableapigroupversion ConfigMap).
    # Velero's sync loop runs once a minute whatever --backup-sync-period says; a short period
    # makes every one of those runs sync instead of every other one.
    # shellcheck disable=SC2046,SC2086
    start velero $(velero_server_user_prefix) env -i PATH=/usr/local/bin:/usr/bin:/bin \
        HOME="$run/home" TMPDIR="$run/tmp" KUBECONFIG="$run/kubeconfig" \
        AWS_SHARED_CREDENTIALS_FILE="$run/credentials" AWS_ENDPOINT_URL_EC2="$endpoint" \
        AWS_EC2_METADATA_DISABLED=true \
        "$run/velero" server --kubeconfig "$run/kubeconfig" --namespace "$VELERO_NAMESPACE" \
        --plugin-dir "$run/plugins" --metrics-address "127.0.0.1:$pm" --profiler-address "127.0.0.1:$pp" \
        --backup-sync-period 10s --store-validation-frequency 10s --log-level "${VELERO_LOG_LEVEL:-info}" \
        ${VELERO_SERVER_ARGS:-}
    wait_for "velero (BackupStorageLocation default Available)" 90 velero_location_available

    cat >>"$DIR/env" <<EOF2
export ARK_TEST_VELERO_BIN=$(velero_bin)
export ARK_TEST_VELERO_NAMESPACE=$VELERO_NAMESPACE
export ARK_TEST_VELERO_BUCKET=$VELERO_BUCKET
export ARK_TEST_VELERO_LOCATION=default
export ARK_TEST_VELERO_LOG=$DIR/velero.log
EOF2
    log "velero ready: velero --kubeconfig $DIR/kubeconfig -n $VELERO_NAMESPACE backup get"
}

velero_location_available() {
    [ "$(velero_kubectl -n "$VELERO_NAMESPACE" get backupstoragelocation default -o jsonpath='{.status.phase}')" = Available ]
}

# Called by `up`, also when the environment is already running: start Velero when it is wanted
# and not running yet.
velero_hook_up() {
    velero_wanted || return 0
    if [ -f "$DIR/velero.pid" ] && kill -0 "$(cat "$DIR/velero.pid")" 2>/dev/null; then return 0; fi
    velero_start
}
