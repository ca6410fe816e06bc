#!/usr/bin/env bash
# Installs Debian's Python packages used to (re)generate reference fixtures.
# The tests themselves only read committed fixtures and need none of this.
set -euo pipefail
need=()
for p in python3-numpy python3-h5py python3-torch python3-sklearn; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
