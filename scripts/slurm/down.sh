#!/usr/bin/env bash
# Stop the cluster that scripts/slurm/up.sh started: TERM to slurmd, slurmctld and munged by the
# PIDs up.sh and munged recorded (never by name), then wait for them to exit.
#
#   SYNERGO_SLURM_BASE  the folder up.sh used (default /tmp/synergo-slurm)
#   SYNERGO_SLURM_PURGE=1  also delete that folder
set -uo pipefail
BASE=${SYNERGO_SLURM_BASE:-/tmp/synergo-slurm}
pids=()
for f in "$BASE/run/slurmd.bgpid" "$BASE/run/slurmctld.bgpid" /run/munge/munged.pid; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" && pids+=("$pid"); fi
  rm -f "$f"
done
for pid in "${pids[@]}"; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "down.sh: PID $pid still running after 10 s" >&2; fi
done
if [ "${SYNERGO_SLURM_PURGE:-0}" = 1 ]; then rm -rf "$BASE"; fi
echo "down.sh: stopped ${#pids[@]} daemons"
