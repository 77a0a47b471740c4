# shellcheck shell=bash
# Building upstream Go programs from the Go module proxy, by module name and version.
# Sourced by scripts/test-env.sh; uses its log/die/apt_install.
#
# `go install module/cmd@version` refuses a module whose go.mod has replace lines, and both
# Kubernetes (`k8s.io/X => ./staging/src/k8s.io/X`) and etcd (`go.etcd.io/etcd/api/v3 => ../api`)
# have them. So go_build_module writes a throwaway wrapper module in a temporary directory that
# requires the upstream module and turns each of its local replace lines into the published
# module at a given version (the approach of kubernetes/kubernetes issue 79384), then builds the
# named packages from it. Nothing of it is kept but the binaries, which land in OUT atomically.

# The machine's own Go (/usr/local/go when it has one: Debian's golang-go is too old for these
# modules) and never an automatic toolchain download: a module that wants a newer Go must fail
# here, loudly, rather than fetch one behind our back.
go_env() {
    if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
    command -v go >/dev/null || die "building from the Go module proxy needs Go 1.26 or newer on PATH"
    export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
}

# go_build_module MODULE VERSION STAGING_VERSION OUT LDFLAGS [NAME=]PACKAGE...
# Builds PACKAGEs of MODULE@VERSION into the directory OUT (replaced whole, via OUT.tmp), each
# binary named NAME or as `go build` names it.
# Each `X => ./path` or `X => ../path` replace line of MODULE's go.mod that names a module MODULE
# requires becomes `X => X STAGING_VERSION`; replace lines to published modules are kept as they
# are. GO_REQUIRE (MODULE@VERSION ...) raises dependencies the proxy does not serve at the version
# upstream pins. The build's output goes to OUT.tmp/build.log, shown when it fails.
go_build_module() {
    local module="$1" version="$2" staging="$3" out="$4" ldflags="$5"
    shift 5
    local work gomod pkg pkgs=()
    for pkg in "$@"; do pkgs+=("${pkg#*=}"); done
    work="$(mktemp -d "${TMPDIR:-/tmp}/ark-go-build.XXXXXX")"
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    : >"$out.tmp/build.log"
    # A plain subshell (no `|| handler`, which would switch errexit off inside it) that says
    # what failed on its way out.
    (
        trap 'tail -30 "$out.tmp/build.log" >&2; rm -rf "$work"; log "building $module@$version failed (log in $out.tmp/build.log)"' ERR
        go_env
        cd "$work" || exit 1
        gomod="$(go mod download -json "$module@$version" | jq -r '.GoMod // empty')"
        [ -n "$gomod" ] || die "the Go module proxy does not serve $module@$version"
        go mod init ark.test/build >/dev/null 2>&1
        go mod edit -go="$(go mod edit -json "$gomod" | jq -r .Go)" -require="$module@$version"
        go mod edit -json "$gomod" | jq -r --arg v "$staging" '
            [.Require // [] | .[].Path] as $required
            | .Replace // [] | .[]
            | if (.New.Path | startswith(".")) then
                  select(.Old.Path as $p | $required | index($p))
                  | "-replace=\(.Old.Path)=\(.Old.Path)@\($v)"
              else
                  "-replace=\(.Old.Path)\(if .Old.Version then "@" + .Old.Version else "" end)=\(.New.Path)\(if .New.Version then "@" + .New.Version else "" end)"
              end' \
            | xargs -r go mod edit
        for require in ${GO_REQUIRE:-}; do go mod edit -require="$require"; done
        # A file importing the packages makes `go mod tidy` keep exactly what they need.
        { echo "//go:build tools"; echo; echo "package build"; echo; echo "import ("
          printf '\t_ "%s"\n' "${pkgs[@]}"; echo ")"; } >tools.go
        go mod tidy >"$out.tmp/build.log" 2>&1
        # The tags are Kubernetes' own release build's; other modules ignore them.
        for pkg in "$@"; do
            local dest="$out.tmp/"
            [ "$pkg" = "${pkg#*=}" ] || dest="$out.tmp/${pkg%%=*}"
            nice -n 10 go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "-s -w $ldflags" \
                -o "$dest" "${pkg#*=}" >>"$out.tmp/build.log" 2>&1
        done
    )
    rm -rf "$work" "$out"
    mv "$out.tmp" "$out"
}

# go_install_module PACKAGE VERSION OUT [LDFLAGS]: a module with no replace lines, as released
# (`go install PACKAGE@VERSION`), into the directory OUT (replaced whole, via OUT.tmp).
go_install_module() {
    local package="$1" version="$2" out="$3" ldflags="${4:-}"
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    (
        go_env
        GOBIN="$out.tmp" nice -n 10 go install -trimpath -ldflags "-s -w $ldflags" "$package@$version" \
            >"$out.tmp/build.log" 2>&1
    ) || { tail -30 "$out.tmp/build.log" >&2; die "building $package@$version failed (log in $out.tmp/build.log)"; }
    rm -rf "$out"
    mv "$out.tmp" "$out"
}
