#!/usr/bin/env bash
# Install ark: the binary, shell completions and man pages, under a prefix.
#
#   ./install.sh [--prefix DIR] [--binary PATH]
#
# Without --binary, builds a static release binary from this checkout first. The prefix defaults
# to ~/.local (/usr/local for root). Running it again replaces what it installed.
set -euo pipefail
cd "$(dirname "$0")"

prefix=""
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#*=}"; shift ;;
        --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
        --binary=*) binary="${1#*=}"; shift ;;
        -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$prefix" ]; then
    if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi

if [ -z "$binary" ]; then
    target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/ark/target}"
    echo "building a static release binary (first build takes about 15 minutes)..." >&2
    RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$target_dir" \
        cargo build --release --locked --target x86_64-unknown-linux-gnu
    binary="$target_dir/x86_64-unknown-linux-gnu/release/ark"
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

install -d "$prefix/bin" "$prefix/share/bash-completion/completions" \
    "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d" "$prefix/share/man/man1"
install -m 0755 "$binary" "$prefix/bin/ark"
echo "installed $prefix/bin/ark"
if [ -d completions ]; then
    [ -f completions/ark.bash ] && install -m 0644 completions/ark.bash "$prefix/share/bash-completion/completions/ark"
    [ -f completions/_ark ] && install -m 0644 completions/_ark "$prefix/share/zsh/site-functions/_ark"
    [ -f completions/ark.fish ] && install -m 0644 completions/ark.fish "$prefix/share/fish/vendor_completions.d/ark.fish"
    echo "installed completions for bash, zsh and fish under $prefix/share"
fi
if compgen -G "man/*.1" >/dev/null; then
    install -m 0644 man/*.1 "$prefix/share/man/man1/"
    echo "installed $(ls man/*.1 | wc -l) man pages in $prefix/share/man/man1"
fi
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on your PATH" >&2 ;;
esac
