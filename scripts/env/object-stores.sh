# shellcheck shell=bash
# Emulators for the gs:// and az:// storage locations, beside the test cluster's moto (s3://).
# Sourced by scripts/test-env.sh: `install` installs them, `up` starts them, `down` stops them.
#
#   Azurite (npm package azurite)      Azure Blob Storage: account devstoreaccount1 and its
#                                      well-known key, path-style URLs, blobs under DIR/azurite
#   fake-gcs-server                    Google Cloud Storage: the upstream binary, unmodified (Go
#                                      module github.com/fsouza/fake-gcs-server), on a loopback
#                                      port of its own, objects under DIR/fake-gcs
#   gcs-front (scripts/env/gcs-front.py) our small Python front on the port clients use: it serves
#                                      the XML API uploads and multipart uploads object_store
#                                      sends and upstream lacks, as we read Google's XML API
#                                      documentation (parts under DIR/gcs-front), answers 404
#                                      NoSuchBucket where upstream answers 500, and forwards
#                                      everything else to fake-gcs-server as it came
#
# Azurite is installed from npm (about 20 s and 190 MB), fake-gcs-server built with `go install`
# (about 3 minutes cold on a busy 2-core machine, a 34 MB binary), both cached under $CACHE keyed
# by version. Started together they are ready in about 2 s and take about 115 MB (Azurite), 30 MB
# (fake-gcs-server, which holds an upload in memory while storing it: 90 MB after a few test runs)
# and 25 MB (the front, which streams): cheap beside the apiserver, so they always run.
#
# DIR/env then points gs:// and az:// locations at them the way a user of those clouds would,
# through object_store's own variables (ark reads none of them itself):
#   GOOGLE_SERVICE_ACCOUNT=DIR/gcs-emulator.json   {"gcs_base_url": ..., "disable_oauth": true, ...}
#   AZURE_STORAGE_USE_EMULATOR=true, AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:PORT
# and ARK_TEST_GCS_ENDPOINT (the front) / ARK_TEST_AZURITE_ENDPOINT name them for the tests.
#
# Variables: AZURITE_VERSION, FAKE_GCS_SERVER_VERSION pick other upstream versions.

# Azurite 3.36 and later require Node >= 21; 3.35.0 is the newest that runs on Node 20.
AZURITE_VERSION="${AZURITE_VERSION:-3.35.0}"
# The newest fake-gcs-server; its go.mod asks for Go 1.26.
FAKE_GCS_SERVER_VERSION="${FAKE_GCS_SERVER_VERSION:-v1.56.1}"
GCS_FRONT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/gcs-front.py"
# The emulator's account: Azurite's default, whose key Microsoft publishes for development.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

azurite_cache() { echo "$CACHE/azurite-$AZURITE_VERSION"; }
fake_gcs_cache() { echo "$CACHE/fake-gcs-server-$FAKE_GCS_SERVER_VERSION"; }

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

# The upstream module, built as released: `go install module@version` into a temporary GOBIN,
# renamed into place when it succeeded.
install_fake_gcs() {
    local dest start
    dest="$(fake_gcs_cache)"
    [ -x "$dest/fake-gcs-server" ] && return 0
    start=$(date +%s)
    log "building fake-gcs-server $FAKE_GCS_SERVER_VERSION with go install (about 3 minutes)"
    go_install_module github.com/fsouza/fake-gcs-server "$FAKE_GCS_SERVER_VERSION" "$dest"
    log "built fake-gcs-server in $(($(date +%s) - start))s, cached in $dest"
}

object_stores_install() {
    install_azurite
    install_fake_gcs
}

# Starts both emulators and appends what clients need to DIR/env.
object_stores_up() {
    local pg pu pz gcs_json
    pg=$(free_port); pu=$(free_port); pz=$(free_port)
    gcs_json="$DIR/gcs-emulator.json"
    mkdir -p "$DIR/fake-gcs" "$DIR/azurite"
    # -public-host without a port: upstream then takes XML API requests for any 127.0.0.1:PORT,
    # the front's included (it forwards the Host header as it came).
    start fake-gcs "$(fake_gcs_cache)/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$pu" \
        -backend filesystem -filesystem-root "$DIR/fake-gcs" -public-host 127.0.0.1 \
        -external-url "http://127.0.0.1:$pg" -log-level warn
    start gcs-front python3 "$GCS_FRONT" --listen "127.0.0.1:$pg" --upstream "127.0.0.1:$pu" \
        --uploads "$DIR/gcs-front"
    start azurite "$(azurite_cache)/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$pz" \
        --location "$DIR/azurite" --disableTelemetry --silent
    # The service-account file object_store's own CI points at fake-gcs-server: no OAuth, no key.
    cat >"$gcs_json" <<JSON
{"gcs_base_url": "http://127.0.0.1:$pg", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}
JSON
    chmod 600 "$gcs_json"
    # Through the front, so both answer.
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
    log "fake-gcs-server $FAKE_GCS_SERVER_VERSION http://127.0.0.1:$pu behind gcs-front http://127.0.0.1:$pg, azurite $AZURITE_VERSION http://127.0.0.1:$pz"
}

