# shellcheck shell=bash
# A CSI stack beside the test cluster, for volume snapshots through snapshot.storage.k8s.io/v1.
# Sourced by scripts/test-env.sh; `ARK_TEST_CSI=1 scripts/test-env.sh up DIR` starts it.
#
#   snapshot CRDs            from the external-snapshotter client module in the Go module cache
#   snapshot-controller      external-snapshotter, with DIR/kubeconfig
#   csi-snapshotter          external-snapshotter sidecar, on the plugin's socket
#   csi-provisioner          external-provisioner sidecar, on the plugin's socket
#   ark-csi-hostpath         our own hostpath plugin (scripts/env/csi-hostpath/, a Rust package of its
#                            own), driver name hostpath.csi.k8s.io, volumes and snapshots as
#                            directories in its data dir
#   StorageClass csi-hostpath-sc, VolumeSnapshotClass csi-hostpath-snapclass
#
# Upstream's csi-driver-host-path is not served by the Go module proxy reachable here (every version
# answers 403), so the plugin is ours: its whole state is its data directory (no state file), which
# lets two clusters sharing one data directory restore each other's snapshot handles.
#
# The kubernetes-csi commands are built from the Go module proxy by module name and version with
# CGO_ENABLED=0, through a wrapper module generated in a temporary directory that repeats the
# upstream replace lines, and cached under $CACHE/csi-<component>-<version>/. Our plugin is built
# with cargo against the CSI spec's csi.proto, which the Go module proxy serves by version too.
#
# Variables: CSI_SNAPSHOTTER_VERSION, CSI_PROVISIONER_VERSION pick the upstream versions;
# CSI_DATA_DIR puts the plugin's data directory elsewhere than DIR/csi-data (share it between two
# environments to restore one's snapshots in the other).

CSI_SNAPSHOTTER_VERSION="${CSI_SNAPSHOTTER_VERSION:-v8.7.0}"
CSI_PROVISIONER_VERSION="${CSI_PROVISIONER_VERSION:-v6.4.0}"
CSI_DRIVER_NAME=hostpath.csi.k8s.io
CSI_STORAGE_CLASS=csi-hostpath-sc
CSI_SNAPSHOT_CLASS=csi-hostpath-snapclass
# The CSI spec our plugin is built against (the version external-provisioner v6.4.0 uses).
CSI_SPEC_VERSION=v1.13.0
CSI_HOSTPATH_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/csi-hostpath"

csi_snapshotter_module() { echo github.com/kubernetes-csi/external-snapshotter/v8; }
csi_provisioner_module() { # the module path carries the major version (v5, v6, ...)
    local major="${CSI_PROVISIONER_VERSION#v}"
    echo "github.com/kubernetes-csi/external-provisioner/v${major%%.*}"
}
csi_snapshotter_cache() { echo "$CACHE/csi-external-snapshotter-$CSI_SNAPSHOTTER_VERSION"; }
csi_provisioner_cache() { echo "$CACHE/csi-external-provisioner-$CSI_PROVISIONER_VERSION"; }
# Keyed by the plugin's sources (names and contents) and the CSI spec version.
csi_hostpath_cache() {
    local sum
    sum="$(
        cd "$CSI_HOSTPATH_SRC"
        find Cargo.toml Cargo.lock build.rs src -type f | LC_ALL=C sort | xargs sha256sum
        echo "csi spec $CSI_SPEC_VERSION"
    )"
    echo "$CACHE/csi-ark-hostpath-$(sha256sum <<<"$sum" | cut -c1-12)"
}

# Moves a finished build directory into place; a concurrent build that finished first wins.
csi_publish() { # built-dir cache-dir
    if [ -d "$2" ]; then rm -rf "$1"; return 0; fi
    mv -T "$1" "$2" 2>/dev/null || rm -rf "$1"
}

# Builds commands of an upstream module at one version (go.sh); a replace by a local directory
# (external-snapshotter's client => ./client) becomes the same module at the same version.
csi_go_build() { # cache-dir module version command-package...
    local dest="$1" module="$2" version="$3"; shift 3
    local pkg missing=0
    for pkg in "$@"; do [ -x "$dest/$(basename "$pkg")" ] || missing=1; done
    [ "$missing" = 0 ] && return 0
    local start
    start=$(date +%s)
    log "building $module@$version (${*##*/})"
    go_build_module "$module" "$version" "$version" "$dest" "-X main.version=$version" "${@/#/$module/}"
    log "built $module@$version in $(($(date +%s) - start))s, cached in $dest"
}

# Our plugin: a Cargo package of its own, whose build.rs generates the CSI types from the spec's
# csi.proto in the Go module cache (CSI_PROTO). Its target directory is one for every version of
# the sources, so a change rebuilds only the plugin; a lock keeps two builds from copying each
# other's binary. The binary is published under the sources' hash.
csi_build_hostpath() {
    local dest
    dest="$(csi_hostpath_cache)"
    [ -x "$dest/ark-csi-hostpath" ] && return 0
    command -v cargo >/dev/null || die "cargo is needed to build ark-csi-hostpath"
    local work start proto
    start=$(date +%s)
    proto="$(go_env && go mod download -json "github.com/container-storage-interface/spec@$CSI_SPEC_VERSION" \
        | jq -r '.Dir // empty')"
    if [ -z "$proto" ] || [ ! -f "$proto/csi.proto" ]; then die "no csi.proto for the CSI spec $CSI_SPEC_VERSION"; fi
    mkdir -p "$CACHE"
    work="$(mktemp -d "${TMPDIR:-/tmp}/ark-csi-build.XXXXXX")"
    log "building ark-csi-hostpath (CSI spec $CSI_SPEC_VERSION) with cargo"
    (
        set -euo pipefail
        export CARGO_TARGET_DIR="$CACHE/csi-hostpath-target" CSI_PROTO="$proto/csi.proto" \
            ARK_CSI_HOSTPATH_VERSION="${dest##*/csi-ark-hostpath-}"
        exec 9>"$CARGO_TARGET_DIR.lock"
        flock 9
        nice -n 10 cargo build --release --locked --manifest-path "$CSI_HOSTPATH_SRC/Cargo.toml" \
            >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
        mkdir "$work/out"
        cp "$CARGO_TARGET_DIR/release/ark-csi-hostpath" "$work/out/"
    ) || { rm -rf "$work"; die "building ark-csi-hostpath failed"; }
    csi_publish "$work/out" "$dest"
    rm -rf "$work"
    log "built ark-csi-hostpath in $(($(date +%s) - start))s, cached in $dest"
}

# The snapshot CRDs ship in external-snapshotter's client module (a module of its own, at the same
# version as the commands); they are applied from the module cache, never copied.
csi_crd_dir() {
    local dir
    dir="$(go_env && go mod download -json \
        "github.com/kubernetes-csi/external-snapshotter/client/v8@$CSI_SNAPSHOTTER_VERSION" | jq -r '.Dir // empty')"
    if [ -z "$dir" ] || [ ! -d "$dir/config/crd" ]; then
        die "no snapshot CRDs for external-snapshotter $CSI_SNAPSHOTTER_VERSION"
    fi
    echo "$dir/config/crd"
}

csi_install() {
    command -v go >/dev/null || apt_install golang-go
    apt_install jq
    csi_build_hostpath
    csi_go_build "$(csi_snapshotter_cache)" "$(csi_snapshotter_module)" "$CSI_SNAPSHOTTER_VERSION" \
        cmd/snapshot-controller cmd/csi-snapshotter
    csi_go_build "$(csi_provisioner_cache)" "$(csi_provisioner_module)" "$CSI_PROVISIONER_VERSION" \
        cmd/csi-provisioner
    csi_crd_dir >/dev/null
}

csi_kubectl() { kubectl --kubeconfig "$DIR/kubeconfig" "$@"; }

# Starts the stack against the cluster in DIR (already up, DIR/kubeconfig written) and appends
# what tests need to DIR/env.
csi_up() {
    local snap prov plugin crds data socket
    snap="$(csi_snapshotter_cache)"
    prov="$(csi_provisioner_cache)"
    plugin="$(csi_hostpath_cache)"
    crds="$(csi_crd_dir)"
    data="${CSI_DATA_DIR:-$DIR/csi-data}"
    socket="$DIR/csi.sock"
    mkdir -p "$data"

    # Only the snapshot.storage.k8s.io CRDs: the group snapshot ones are for a feature gate left off.
    # Client-side validation is off because kubectl checks the CRDs' newer schema fields
    # (x-kubernetes-validations) against an old apiserver's OpenAPI; the apiserver prunes them.
    csi_kubectl apply --validate=false -f "$crds/snapshot.storage.k8s.io_volumesnapshotclasses.yaml" \
        -f "$crds/snapshot.storage.k8s.io_volumesnapshotcontents.yaml" \
        -f "$crds/snapshot.storage.k8s.io_volumesnapshots.yaml" >/dev/null
    csi_kubectl wait --for condition=established --timeout 60s \
        crd/volumesnapshotclasses.snapshot.storage.k8s.io crd/volumesnapshotcontents.snapshot.storage.k8s.io \
        crd/volumesnapshots.snapshot.storage.k8s.io >/dev/null

    start csi-hostpath "$plugin/ark-csi-hostpath" --endpoint "unix://$socket" --nodeid ark-test-node \
        --datadir "$data"
    wait_for "csi plugin" 30 test -S "$socket"
    # No kubelet and no nodes: no leader election (one replica); no topology flag either, since the
    # plugin advertises none (so Immediate binding needs no Node or CSINode), and GA gates such as
    # Topology are dropped from the sidecars in time, which makes setting them fatal. Metadata of
    # the PVC/VolumeSnapshot goes to the plugin as parameters. Group snapshots are off: their CRDs
    # are not applied, and from v8.7.0 on the snapshot-controller otherwise waits 30 s for them
    # (the gate's name is CSIVolumeGroupSnapshot; pinned versions keep it valid). Retries back off to
    # 10 s at most, so a PVC created before its VolumeSnapshot binds soon after the snapshot appears.
    # csi-provisioner prefers $KUBECONFIG to its --kubeconfig flag: set both to this cluster's, or a
    # KUBECONFIG exported for another cluster sends it there.
    local kube=(env KUBECONFIG="$DIR/kubeconfig")
    start csi-provisioner "${kube[@]}" "$prov/csi-provisioner" --kubeconfig "$DIR/kubeconfig" \
        --csi-address "unix://$socket" --leader-election=false --extra-create-metadata \
        --timeout 30s --retry-interval-max 10s --v 4
    start csi-snapshotter "${kube[@]}" "$snap/csi-snapshotter" --kubeconfig "$DIR/kubeconfig" \
        --csi-address "unix://$socket" --leader-election=false --feature-gates CSIVolumeGroupSnapshot=false \
        --extra-create-metadata --timeout 30s --retry-interval-max 10s --v 4
    start csi-snapshot-controller "${kube[@]}" "$snap/snapshot-controller" --kubeconfig "$DIR/kubeconfig" \
        --leader-election=false --feature-gates CSIVolumeGroupSnapshot=false --retry-interval-max 10s --v 4

    csi_kubectl apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $CSI_STORAGE_CLASS
provisioner: $CSI_DRIVER_NAME
reclaimPolicy: Delete
volumeBindingMode: Immediate
---
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: $CSI_SNAPSHOT_CLASS
driver: $CSI_DRIVER_NAME
deletionPolicy: Delete
YAML
    cat >>"$DIR/env" <<ENV
export ARK_TEST_CSI=1
export ARK_TEST_CSI_DRIVER=$CSI_DRIVER_NAME
export ARK_TEST_CSI_DATA_DIR=$data
export ARK_TEST_CSI_STORAGE_CLASS=$CSI_STORAGE_CLASS
export ARK_TEST_CSI_SNAPSHOT_CLASS=$CSI_SNAPSHOT_CLASS
ENV
    log "csi: driver $CSI_DRIVER_NAME (data in $data), external-snapshotter $CSI_SNAPSHOTTER_VERSION, external-provisioner $CSI_PROVISIONER_VERSION"
}

# Stops what csi_up started in DIR: controllers first, the plugin they talk to last.
