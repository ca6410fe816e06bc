#!/usr/bin/env bash
# build.sh [--user] [--force] — builds the "synergo" Jupyter kernel: gophernotes v0.7.5 (patched)
# on gomacro 2024-05-06 with synergo's notebook packages, gonum and gonum/plot linked in, so that
# a notebook cell `import "github.com/synergo/synergo/synergy/estimate"` compiles nothing at run time.
# Why a patched copy: stock gophernotes v0.7.5 dies at start on Go >= 1.23 — gomacro cannot read the
# *types.Alias nodes go/types now makes (fixed by `godebug gotypesalias=0` in the kernel's go.mod), and
# v0.7.5's proxy for the JSONer interface is wrong (a 2-line patch to x_package.go, as upstream fixed
# it later). Why linked in: a package imported by a cell that is not in the kernel is built as a plugin
# at run time (seconds to a minute, needs gcc), each with its own `go get` of the latest versions;
# the generated import tables make synergo's notebook packages and gonum/plot part of the binary.
#
# Output (default $ROOT/.kernel, override with SYNERGO_KERNEL_DIR):
#   src/                        gophernotes sources, patched, with generated import tables
#   modcache/                   the kernel's own module cache; its cache/download is the file proxy
#                               that pins run-time plugin imports to the versions of synergo's go.mod
#   bin/gophernotes, bin/kernel the kernel binary and its launcher (one temporary GOPATH per kernel)
#   share/jupyter/kernels/synergo/kernel.json   use with JUPYTER_PATH=$OUT/share/jupyter
#
# Incremental, in three stages: the setup (copy, patch, fresh module cache) reruns only when
# go.mod, go.sum, the toolchain, the pinned versions, this script or the package list change; the
# module resolution (go mod tidy + download into the pinned cache) also when the set of modules
# the linked packages import changes; table generation and `go build` also when a Go source file
# of a linked synergo package (or of its in-module dependencies) changes.
# --force rebuilds everything; --user also installs the kernelspec user-wide.
set -euo pipefail
trap 'echo "kernel: error: build.sh failed at line $LINENO" >&2' ERR

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${SYNERGO_KERNEL_DIR:-$ROOT/.kernel}
NAME=${SYNERGO_KERNEL_NAME:-synergo}
MODULE=github.com/synergo/synergo

USER_INSTALL=0 FORCE=0
for a in "$@"; do
  case "$a" in
    --user) USER_INSTALL=1 ;;
    --force) FORCE=1 ;;
    *) echo "build.sh: unknown argument $a (want --user or --force)" >&2; exit 2 ;;
  esac
done

# Pinned versions: only gophernotes v0.7.5 is obtainable from the module proxy, and it needs the
# gomacro of 2024-05-06 (the last; the one v0.7.5 pins cannot read Go 1.26's generic reflect) plus
# `godebug gotypesalias=0` to start on Go >= 1.23.
GOPHERNOTES=github.com/gopherdata/gophernotes@v0.7.5
GOMACRO_VERSION=v0.0.0-20240506194242-2ff796e3da10
ZMQ4_VERSION=v0.14.1
UUID_VERSION=v4.2.0+incompatible
XTOOLS_VERSION=v0.39.0

# Packages linked into the kernel. REQUIRED must exist; OPTIONAL are linked when their directory
# holds non-test Go files at build time.
REQUIRED="synergy/estimate synergy/metrics datasets viz"
OPTIONAL="datasets/multimodal synergy synergy/nn synergy/train synergy/grid synergy/models synergy/paper synergy/explore"
EXTERNAL="gonum.org/v1/gonum/mat gonum.org/v1/gonum/stat gonum.org/v1/plot gonum.org/v1/plot/plotter
gonum.org/v1/plot/vg gonum.org/v1/plot/vg/draw gonum.org/v1/plot/vg/vgimg"

START=$(date +%s)
log() { echo "kernel: [$(($(date +%s) - START)) s] $*" >&2; }
die() { echo "kernel: error: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------
command -v gcc >/dev/null || bash "$HERE/apt-install.sh" gcc libc6-dev
command -v jupyter-kernelspec >/dev/null || bash "$HERE/apt-install.sh" jupyter-client
GO=${GO:-go}
command -v "$GO" >/dev/null || die "no Go toolchain: put Go 1.26 on PATH or set GO"
GOROOT=$("$GO" env GOROOT)
GOEXE=$GOROOT/bin/go
GOVERSION=$("$GOEXE" env GOVERSION)
USERMODCACHE=$("$GOEXE" env GOMODCACHE)
NETPROXY=$("$GOEXE" env GOPROXY)
export GOTOOLCHAIN=local CGO_ENABLED=1 GONOSUMDB=github.com/cosmos72 GOWORK=off
unset GOPATH GOFLAGS

# --- package list --------------------------------------------------------------------------------
has_go_files() {
  local f
  for f in "$ROOT/$1"/*.go; do
    [ -e "$f" ] || continue
    case "$f" in *_test.go) continue ;; esac
    return 0
  done
  return 1
}
PKGS=""
for p in $REQUIRED; do
  if ! has_go_files "$p"; then
    # SYNERGO_KERNEL_ALLOW_MISSING=1 is for working on the kernel while packages are being
    # written: missing or non-compiling synergo packages are left out (loudly) instead of failing.
    [ "${SYNERGO_KERNEL_ALLOW_MISSING:-0}" = 1 ] || die "$p has no non-test Go files; the kernel links $MODULE/$p"
    log "WARNING: $MODULE/$p missing, not linked (SYNERGO_KERNEL_ALLOW_MISSING=1)"
    continue
  fi
  PKGS="$PKGS $MODULE/$p"
done
for p in $OPTIONAL; do
  if has_go_files "$p"; then PKGS="$PKGS $MODULE/$p"; else log "skipping $MODULE/$p (no Go files yet)"; fi
done
if [ "${SYNERGO_KERNEL_ALLOW_MISSING:-0}" = 1 ]; then
  kept=""
  for p in $PKGS; do
    if (cd "$ROOT" && GOFLAGS=-mod=readonly "$GOEXE" build -o /dev/null "$p" 2>/dev/null); then
      kept="$kept $p"
    else
      log "WARNING: $p does not compile, not linked (SYNERGO_KERNEL_ALLOW_MISSING=1)"
    fi
  done
  PKGS=$kept
fi
PKGS="${PKGS# } $(echo $EXTERNAL)"

# --- input hashes --------------------------------------------------------------------------------
setup_key=$( {
  echo "$GOVERSION $GOROOT $GOPHERNOTES $GOMACRO_VERSION $ZMQ4_VERSION $UUID_VERSION $XTOOLS_VERSION"
  echo "$PKGS"
  cat "$HERE/build.sh" "$HERE/genimports.go.tmpl" "$ROOT/go.mod" "$ROOT/go.sum"
} | sha256sum | cut -d' ' -f1)
# One `go list -deps` (read-only on the project's go.mod) gives the modules the linked packages
# need (a new one triggers a new module resolution) and the non-test Go and embedded files of the
# in-module packages among them (any change triggers new tables and a new binary).
deps=$(cd "$ROOT" && GOFLAGS=-mod=readonly "$GOEXE" list -e -deps \
  -f '{{if .Module}}{{if eq .Module.Path "'$MODULE'"}}{{$d := .Dir}}{{range .GoFiles}}F {{$d}}/{{.}}{{"\n"}}{{end}}{{range .CgoFiles}}F {{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}F {{$d}}/{{.}}{{"\n"}}{{end}}{{else}}M {{.Module.Path}}{{"\n"}}{{end}}{{end}}' \
  $PKGS) || die "go list of the linked packages failed"
resolve_key=$( { echo "$setup_key"; echo "$deps" | sed -n 's/^M //p' | sort -u; } | sha256sum | cut -d' ' -f1)
src_key=$( { echo "$resolve_key"; for f in $(echo "$deps" | sed -n 's/^F //p'); do echo "$f"; cat "$f"; done; } |
  sha256sum | cut -d' ' -f1)

if [ "$FORCE" = 0 ] && [ -x "$OUT/bin/gophernotes" ] && [ "$(cat "$OUT/src.key" 2>/dev/null)" = "$src_key" ]; then
  log "up to date ($OUT)"
else
  SRC=$OUT/src
  MC=$OUT/modcache
  mkdir -p "$OUT"

  # --- setup: sources, patch, go.mod, pinned module cache --------------------------------------
  if [ "$FORCE" = 1 ] || [ "$(cat "$OUT/setup.key" 2>/dev/null)" != "$setup_key" ]; then
    log "setup: $GOPHERNOTES + gomacro $GOMACRO_VERSION, $GOVERSION"
    rm -f "$OUT/setup.key" "$OUT/resolve.key" "$OUT/src.key"
    chmod -R u+w "$SRC" 2>/dev/null || true
    rm -rf "$SRC"
    # A fresh module cache: "latest" in the file proxy must be the pinned version, never a
    # version left over from an older go.mod.
    [ ! -d "$MC" ] || GOMODCACHE=$MC "$GOEXE" clean -modcache
    dir=$(cd "$OUT" && GOFLAGS=-mod=mod "$GOEXE" mod download -json "$GOPHERNOTES" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir" ] || die "could not download $GOPHERNOTES from $NETPROXY"
    cp -r "$dir" "$SRC"
    chmod -R u+w "$SRC"
    rm -rf "$SRC"/go.sum "$SRC"/*_test.go "$SRC"/examples "$SRC"/paper "$SRC"/fixtures "$SRC"/Gopkg.*
    # The JSONer proxy of v0.7.5 has the wrong signature (upstream fix 1a743ef).
    sed -i -e 's/JSON_  *func(interface{}) string$/JSON_ func(interface{}) map[string]interface{}/' \
           -e 's/^func (P \*proxy_JSONer) JSON() string {$/func (P *proxy_JSONer) JSON() map[string]interface{} {/' \
           "$SRC/x_package.go"
    [ "$(grep -c 'map\[string\]interface{}' "$SRC/x_package.go")" -ge 2 ] &&
      ! grep -q 'proxy_JSONer) JSON() string' "$SRC/x_package.go" || die "JSONer patch did not apply to $SRC/x_package.go"
    cat > "$SRC/go.mod" <<EOF
module github.com/gopherdata/gophernotes

go 1.26

godebug gotypesalias=0

require (
	github.com/cosmos72/gomacro $GOMACRO_VERSION
	github.com/go-zeromq/zmq4 $ZMQ4_VERSION
	github.com/gofrs/uuid $UUID_VERSION
	golang.org/x/tools $XTOOLS_VERSION
	$MODULE v0.0.0-00010101000000-000000000000
)

replace $MODULE => $ROOT
EOF
    mkdir -p "$SRC/cmd/genimports"
    cp "$HERE/genimports.go.tmpl" "$SRC/cmd/genimports/main.go"
    echo "$setup_key" > "$OUT/setup.key"
  fi

  # --- module resolution: kernel go.mod, pinned module cache (when the needed modules change) ---
  if [ "$(cat "$OUT/resolve.key" 2>/dev/null)" != "$resolve_key" ]; then
    log "resolving modules"
    rm -f "$OUT/resolve.key"
    { echo "// Code generated by notebooks/kernel/build.sh. DO NOT EDIT."; echo
      echo "package main"; echo; echo "// The linked packages, so that go mod tidy keeps their modules."; echo "import ("
      for p in $PKGS; do echo "	_ \"$p\""; done; echo ")"; } > "$SRC/pins.go"
    # Resolve everything into the kernel's own module cache; the user's cache serves as a
    # first, local proxy so that a warm machine downloads nothing. `go mod download` (no
    # arguments) fetches the modules the kernel module requires; the graph's other go.mod files
    # are already cached by tidy, which is all a run-time plugin's version resolution needs.
    (cd "$SRC" && GOMODCACHE=$MC GOPROXY="file://$USERMODCACHE/cache/download,$NETPROXY" GOFLAGS=-mod=mod \
      "$GOEXE" mod tidy) || die "go mod tidy of the kernel module failed"
    (cd "$SRC" && GOMODCACHE=$MC GOPROXY="file://$USERMODCACHE/cache/download,$NETPROXY" GOFLAGS=-mod=mod \
      "$GOEXE" mod download) || die "go mod download failed"
    # Every module that synergo's go.mod names must keep its version in the kernel (after tidy,
    # both go.mod files list every module of their build lists).
    requires() { awk '$1=="require" && $2!="(" {print $2, $3} /^require \(/ {r=1; next} r && /^\)/ {r=0} r {print $1, $2}' "$1"; }
    bad=$(join <(requires "$ROOT/go.mod" | sort) <(requires "$SRC/go.mod" | sort) | awk '$2!=$3 {printf " %s:%s->%s", $1, $2, $3}')
    [ -z "$bad" ] || die "the kernel's module graph moved synergo's pins:$bad"
    echo "$resolve_key" > "$OUT/resolve.key"
  fi

  # --- import tables and binary -------------------------------------------------------------------
  log "generating import tables for: $PKGS"
  find "$SRC/imports" -name '*.go' ! -name a_package.go -delete
  mkdir -p "$OUT/gopath/src/github.com/gopherdata"
  ln -sfn "$SRC" "$OUT/gopath/src/github.com/gopherdata/gophernotes"
  cp "$SRC/go.mod" "$OUT/go.mod.before"
  (cd "$SRC" && GOPATH=$OUT/gopath GOMODCACHE=$MC GOPROXY="file://$MC/cache/download" GOSUMDB=off \
    GOFLAGS=-mod=mod "$GOEXE" run ./cmd/genimports $PKGS) || die "generating import tables failed"
  cmp -s "$SRC/go.mod" "$OUT/go.mod.before" || {
    diff "$OUT/go.mod.before" "$SRC/go.mod" >&2 || true
    die "table generation changed the kernel's go.mod (a package was re-resolved)"
  }
  for p in $PKGS; do
    f="$SRC/imports/$(echo "$p" | tr './-' '___').go"
    [ -s "$f" ] || die "no import table for $p (expected $f)"
  done
  log "go build"
  mkdir -p "$OUT/bin"
  (cd "$SRC" && GOMODCACHE=$MC GOPROXY=off GOFLAGS=-mod=mod "$GOEXE" build -o "$OUT/bin/gophernotes" .) ||
    die "go build of the kernel failed"
  echo "$src_key" > "$OUT/src.key"
fi

# --- launcher and kernelspec (cheap; always rewritten) ---------------------------------------------
cat > "$OUT/bin/kernel" <<EOF
#!/bin/sh
# Launches the synergo kernel with its own temporary GOPATH (kernels sharing a GOPATH delete each
# other's plugin build directories) and the kernel's module cache (plugins must match the binary).
GOMODCACHE="$OUT/modcache"; export GOMODCACHE
PATH="$GOROOT/bin:\$PATH"; export PATH
GOPATH=\$(mktemp -d "\${TMPDIR:-/tmp}/synergo-kernel-gopath.XXXXXX") || exit 1
export GOPATH
trap 'chmod -R u+w "\$GOPATH" 2>/dev/null; rm -rf "\$GOPATH"' EXIT
# Jupyter signals the whole process group: the kernel gets the signal itself; the launcher only
# waits for it and then cleans up.
trap ':' INT TERM HUP
"$OUT/bin/gophernotes" "\$@"
EOF
chmod +x "$OUT/bin/kernel"
# The kernelspec pins run-time plugin imports to the kernel's module cache. CGO_ENABLED is left to
# the environment (plugins need cgo; notebooks/selftest.py turns it off to prove that the linked
# packages need no plugin).
SPEC=$OUT/share/jupyter/kernels/$NAME
mkdir -p "$SPEC"
cp "$OUT/src/kernel/logo-32x32.png" "$OUT/src/kernel/logo-64x64.png" "$SPEC/"
cat > "$SPEC/kernel.json" <<EOF
{
  "argv": ["$OUT/bin/kernel", "{connection_file}"],
  "display_name": "Go (synergo)",
  "language": "go",
  "env": {
    "GOPROXY": "file://$OUT/modcache/cache/download",
    "GOSUMDB": "off",
    "GOTOOLCHAIN": "local",
    "GOFLAGS": "-mod=mod"
  }
}
EOF
if [ "$USER_INSTALL" = 1 ]; then
  jupyter-kernelspec install --user --replace --name "$NAME" "$SPEC" >&2
fi
log "kernelspec $SPEC (use JUPYTER_PATH=$OUT/share/jupyter)"
