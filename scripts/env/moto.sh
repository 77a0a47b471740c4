# shellcheck shell=bash
# moto: one server for S3 (buckets, multipart uploads) and EC2 (volumes, snapshots), from PyPI.
# Sourced by scripts/test-env.sh; uses its log/die/apt_install/start/wait_for/free_port and $DIR.
# MOTO_SERVER_BIN may point at a moto_server you installed.

MOTO_VENV="$CACHE/moto-venv"

moto_install() {
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

# Starts moto on a free port and sets MOTO_PORT; moto_wait waits for it (it starts while
# Kubernetes does).
moto_start() {
    MOTO_PORT=$(free_port)
    start moto "${MOTO_SERVER_BIN:-$MOTO_VENV/bin/moto_server}" -H 127.0.0.1 -p "$MOTO_PORT"
}

moto_wait() {
    wait_for moto 30 curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/"
}
