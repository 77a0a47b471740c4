# shellcheck shell=bash
# Emulators for the gs:// and az:// storage locations, beside the test cluster's moto (s3://).
# Sourced by scripts/test-env.sh: `install` installs them, `up` starts them, `down` stops them.
#
#   Azurite (npm package azurite)      Azure Blob Storage: account devstoreaccount1 and its
#                                      well-known key, path-style URLs, blobs under DIR/azurite
#   ark-fake-gcs                       fake-gcs-server (Go module github.com/fsouza/fake-gcs-server)
#                                      behind our own front for the XML API uploads and multipart
#                                      uploads object_store sends and upstream lacks
#                                      (scripts/env/fake-gcs/main.go says which); objects under
#                                      DIR/fake-gcs, so its memory does not grow with every test run
#
# Both are cached under $CACHE keyed by version, installed or built once (npm: about 20 s and
# 190 MB; the Go build: about 2 minutes cold). Started together they are ready in under a second
# on an idle 2-core machine (2 s under load) and take about 30 MB (fake-gcs; 110 MB once the tests
# have uploaded through it) and 115 MB (Azurite): cheap beside the apiserver, so they always run.
#
# DIR/env then points gs:// and az:// locations at them the way a user of those clouds would,
# through object_store's own variables (ark reads none of them itself):
#   GOOGLE_SERVICE_ACCOUNT=DIR/gcs-emulator.json   {"gcs_base_url": ..., "disable_oauth": true, ...}
#   AZURE_STORAGE_USE_EMULATOR=true, AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:PORT
# and ARK_TEST_GCS_ENDPOINT / ARK_TEST_AZURITE_ENDPOINT name them for the tests.
#
# Variables: AZURITE_VERSION, FAKE_GCS_SERVER_VERSION pick other upstream versions.

# Azurite 3.36 and later require Node >= 21; 3.35.0 is the newest that runs on Node 20.
AZURITE_VERSION="${AZURITE_VERSION:-3.35.0}"
# The newest fake-gcs-server; its go.mod asks for Go 1.26.
FAKE_GCS_SERVER_VERSION="${FAKE_GCS_SERVER_VERSION:-v1.56.1}"
FAKE_GCS_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fake-gcs/main.go"
# The emulator's account: Azurite's default, whose key Microsoft publishes for development.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

azurite_cache() { echo "$CACHE/azurite-$AZURITE_VERSION"; }
fake_gcs_cache() {
    local sum
    sum="$(cat "$FAKE_GCS_SRC" <(echo "$FAKE_GCS_SERVER_VERSION") | sha256sum | cut -c1-12)"
    echo "$CACHE/fake-gcs-server-$FAKE_GCS_SERVER_VERSION-$sum"
}

install_azurite() {
    local dest
    dest="$(azurite_cache)"
    [ -x "$dest/node_modules/.bin/azurite-blob" ] && return 0
    command -v npm >/dev/null || apt_install nodejs npm
    log "installing azurite@$AZURITE_VERSION from npm into $dest"
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    npm install --prefix "$dest.tmp" --no-audit --no-fund --omit=dev --loglevel=error \
        "azurite@$AZURITE_VERSION" >/dev/null || { rm -rf "$dest.tmp"; die "npm install azurite@$AZURITE_VERSION failed"; }
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
}

fake_gcs_go() { GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod go "$@"; }

# Our front, built against fake-gcs-server at one version in a module generated here.
install_fake_gcs() {
    local dest
    dest="$(fake_gcs_cache)"
    [ -x "$dest/ark-fake-gcs" ] && return 0
    # Debian's golang-go is too old for fake-gcs-server; prefer /usr/local/go when there is one.
    if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
    command -v go >/dev/null || apt_install golang-go
    local work start
    work="$(mktemp -d "${TMPDIR:-/tmp}/ark-fake-gcs-build.XXXXXX")"
    start=$(date +%s)
    log "building ark-fake-gcs on fake-gcs-server $FAKE_GCS_SERVER_VERSION in $work (about 2 minutes)"
    (
        set -euo pipefail
        cd "$work"
        cp "$FAKE_GCS_SRC" main.go
        fake_gcs_go mod init ark.test/fake-gcs >/dev/null 2>&1
        fake_gcs_go mod edit -require="github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION"
        fake_gcs_go mod tidy >build.log 2>&1 || { tail -30 build.log >&2; exit 1; }
        mkdir -p out
        nice -n 10 env GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o out/ark-fake-gcs . >>build.log 2>&1 \
            || { tail -30 build.log >&2; exit 1; }
    ) || { rm -rf "$work"; die "building ark-fake-gcs on fake-gcs-server $FAKE_GCS_SERVER_VERSION failed"; }
    rm -rf "$dest.tmp" "$dest"
    mv "$work/out" "$dest.tmp"
    mv "$dest.tmp" "$dest"
    rm -rf "$work"
    log "built ark-fake-gcs in $(($(date +%s) - start))s, cached in $dest"
}

object_stores_install() {
    install_azurite
    install_fake_gcs
}

# Starts both emulators and appends what clients need to DIR/env.
object_stores_up() {
    local pg pz gcs_json
    pg=$(free_port); pz=$(free_port)
    gcs_json="$DIR/gcs-emulator.json"
    mkdir -p "$DIR/fake-gcs" "$DIR/azurite"
    start fake-gcs "$(fake_gcs_cache)/ark-fake-gcs" -host 127.0.0.1 -port "$pg" -data "$DIR/fake-gcs"
    start azurite "$(azurite_cache)/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$pz" \
        --location "$DIR/azurite" --disableTelemetry --silent
    # The service-account file object_store's own CI points at fake-gcs-server: no OAuth, no key.
    cat >"$gcs_json" <<JSON
{"gcs_base_url": "http://127.0.0.1:$pg", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}
JSON
    chmod 600 "$gcs_json"
    wait_for fake-gcs 30 curl -sf "http://127.0.0.1:$pg/storage/v1/b"
    # Any HTTP answer will do (unsigned requests get 403).
    wait_for azurite 60 curl -s -o /dev/null "http://127.0.0.1:$pz/$AZURITE_ACCOUNT?comp=list"
    cat >>"$DIR/env" <<EOF
export ARK_TEST_GCS_ENDPOINT=http://127.0.0.1:$pg
export ARK_TEST_AZURITE_ENDPOINT=http://127.0.0.1:$pz
export ARK_TEST_AZURITE_ACCOUNT=$AZURITE_ACCOUNT
export ARK_TEST_AZURITE_KEY=$AZURITE_KEY
export GOOGLE_SERVICE_ACCOUNT=$gcs_json
export AZURE_STORAGE_USE_EMULATOR=true
export AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:$pz
EOF
    log "fake-gcs-server $FAKE_GCS_SERVER_VERSION http://127.0.0.1:$pg, azurite $AZURITE_VERSION http://127.0.0.1:$pz"
}

object_stores_down() {
    local name pidf pid
    for name in fake-gcs azurite; do
        pidf="$DIR/$name.pid"
        [ -f "$pidf" ] || continue
        pid="$(cat "$pidf")"
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 -- "-$pid" 2>/dev/null || true
        rm -f "$pidf"
    done
}
