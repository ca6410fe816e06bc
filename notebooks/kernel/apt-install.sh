#!/usr/bin/env bash
# apt-install.sh PKG... — installs the Debian packages among PKG that are not installed yet.
# Runs `apt-get update` once per call, and only when something is missing; waits for a
# concurrent apt/dpkg run to release its lock instead of failing.
set -euo pipefail
need=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
((${#need[@]})) || exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "apt-install: installing ${need[*]}" >&2
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
  --no-install-recommends "${need[@]}"
