#!/usr/bin/env bash
# lab.sh [--port N] [--ip ADDR] [--no-build] — serves synergo's notebooks interactively: installs
# Debian's jupyter-notebook when missing (Debian 12 packages no JupyterLab application, only the
# classic notebook server), builds the "synergo" kernel (build.sh, incremental), and starts the
# notebook server on ADDR:N (default 127.0.0.1:8888) with that kernel and the notebooks/ folder.
# It prints the URL to open (with a fresh access token) and runs until the server stops (Ctrl-C
# twice, or once and y).
# `make lab` (LAB_PORT, LAB_IP) and `synergo notebook [--port N] [--ip ADDR]` run this script.
#
# Jupyter's state stays under the kernel directory (SYNERGO_KERNEL_DIR, default .kernel/), as for
# `make notebooks`; figures shown by the notebooks are also written as PNG and SVG to
# SYNERGO_FIGURES (default results/lab/figures). In a container, pass --ip 0.0.0.0 and publish
# the port on the host's loopback only (docker run -p 127.0.0.1:N:N).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${SYNERGO_KERNEL_DIR:-$ROOT/.kernel}
PORT=8888 IP=127.0.0.1 BUILD=1
while (($#)); do
  case "$1" in
    --port) PORT=${2:-}; shift 2 || { echo "lab.sh: --port needs a value" >&2; exit 2; } ;;
    --ip) IP=${2:-}; shift 2 || { echo "lab.sh: --ip needs a value" >&2; exit 2; } ;;
    --no-build) BUILD=0; shift ;;
    *) echo "lab.sh: unknown argument $1 (want --port N, --ip ADDR or --no-build)" >&2; exit 2 ;;
  esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT >= 1 && PORT <= 65535)) ||
  { echo "lab.sh: --port $PORT: want a TCP port number 1..65535" >&2; exit 2; }
[ -n "$IP" ] || { echo "lab.sh: --ip: want an address such as 127.0.0.1" >&2; exit 2; }

command -v jupyter-notebook >/dev/null || bash "$HERE/kernel/apt-install.sh" jupyter-notebook
if [ "$BUILD" = 1 ]; then
  SYNERGO_KERNEL_DIR=$OUT bash "$HERE/kernel/build.sh"
fi
[ -f "$OUT/share/jupyter/kernels/synergo/kernel.json" ] ||
  { echo "lab.sh: no kernelspec at $OUT/share/jupyter/kernels/synergo (run make kernel)" >&2; exit 1; }

export JUPYTER_PATH=$OUT/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
export JUPYTER_DATA_DIR=$OUT/jupyter-data JUPYTER_CONFIG_DIR=$OUT/jupyter-config \
  JUPYTER_RUNTIME_DIR=$OUT/runtime JUPYTER_PLATFORM_DIRS=1 SYNERGO_KERNEL_DIR=$OUT
export SYNERGO_FIGURES=${SYNERGO_FIGURES:-$ROOT/results/lab/figures}

# The access token (JUPYTER_TOKEN when set, else a fresh random one) goes through the environment,
# not the command line, which other users can read.
export JUPYTER_TOKEN
JUPYTER_TOKEN=${JUPYTER_TOKEN:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
HOST=$IP
case "$IP" in 0.0.0.0 | "::" | "*") HOST=127.0.0.1 ;; esac
echo "synergo notebooks (kernel \"Go (synergo)\", folder $ROOT/notebooks):"
echo "  open http://$HOST:$PORT/tree?token=$JUPYTER_TOKEN"
echo "  stop with Ctrl-C twice"
# New notebooks get the synergo kernel by default.
args=(--no-browser "--ip=$IP" "--port=$PORT" --NotebookApp.port_retries=0 "--notebook-dir=$ROOT/notebooks"
  --MappingKernelManager.default_kernel_name=synergo)
[ "$(id -u)" != 0 ] || args+=(--allow-root)
exec jupyter-notebook "${args[@]}"
