#!/usr/bin/env bash
# CI test of the sharded grid (synergo grid plan | slurm | run | collect) on a real single-node
# Slurm cluster (scripts/slurm/up.sh; stopped again at the end if this script started it).
#
# 1. Plans a small grid on synth:mosi:0.1 (2 models × 2 regs × 1 seed × 1 batch × 2 lrs = 8 runs,
#    2 epochs), submits it as an sbatch array of 3 shards and, meanwhile, runs the same grid in
#    one process with "synergo grid". Checks that every task completed, that "grid collect" finds
#    every run, and that results.jsonl (wall times blanked) and "synergo table" (markdown) are
#    byte-equal to the single-process ones.
# 2. Kill test: plans the same grid in a new folder, submits it, scancels task 1 while it trains
#    its second run, checks that collect reports the plan incomplete (exit ≠ 0, runs listed as
#    missing), resubmits task 1 alone (sbatch --array=1), and checks that collect then finds every
#    run exactly once (one result file per run, one "grid run finished" log line per run over all
#    task logs) and the same results as in 1.
#
#   SYNERGO_SLURM_WORK  work folder, kept (default: a new /tmp/synergo-slurm-test.XXXXXX, deleted
#                       after a pass, kept on failure)
#   GO                  the go command (default go)
#   SYNERGO_SLURM_BASE  cluster folder of up.sh/down.sh (default /tmp/synergo-slurm)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/scripts/slurm
BASE=${SYNERGO_SLURM_BASE:-/tmp/synergo-slurm}
export SLURM_CONF=$BASE/etc/slurm.conf SYNERGO_SLURM_BASE=$BASE
KEEP_WORK=${SYNERGO_SLURM_WORK:+1}
WORK=${SYNERGO_SLURM_WORK:-$(mktemp -d /tmp/synergo-slurm-test.XXXXXX)}
mkdir -p "$WORK"
T0=$(date +%s)
say() { echo "ci-test [$(( $(date +%s) - T0 ))s] $*"; }
fail() { echo "ci-test FAILED: $*" >&2; echo "ci-test: work folder kept: $WORK" >&2; exit 1; }

started=0
if ! { [ -s "$SLURM_CONF" ] && [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; }; then
  bash "$HERE/up.sh"
  started=1
fi
cleanup() {
  if [ -n "${JOBS:-}" ]; then scancel $JOBS 2>/dev/null || true; fi
  if [ "$started" = 1 ]; then bash "$HERE/down.sh" >/dev/null || true; fi
}
trap cleanup EXIT

say "building synergo"
(cd "$ROOT" && "${GO:-go}" build -o "$WORK/synergo" ./cmd/synergo)
SYN=$WORK/synergo
GRID=(--models tfn,lmf --regs none,mmd --seeds 1111 --batches 32 --lrs 1e-3,5e-4 --epochs 2
      --data synth:mosi:0.1 --no-progress)
NRUNS=8 SHARDS=3

# wait_job JOBID: poll squeue until the job (all its array tasks) left the queue.
wait_job() {
  local deadline=$(( $(date +%s) + 900 ))
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "job $1 still queued after 900 s"
    sleep 1
  done
}
# task_states JOBID: "<task> <state>" of every array task (Slurm keeps them for MinJobAge = 300 s).
task_states() { squeue -t all -h -j "$1" -o '%K %T' | sort -n; }
# strip_wall: blank the wall times of results.jsonl lines.
strip_wall() { sed -E 's/"wall_seconds":[^,}]*/"wall_seconds":0/g' "$1"; }
# plan_ids DIR: the run ids of DIR/plan.jsonl in plan order.
plan_ids() { grep -o '"id":"[0-9a-f]*"' "$1/plan.jsonl" | cut -d'"' -f4; }

# ---- 1. sharded on Slurm == one process -------------------------------------------------------
say "planning and submitting $NRUNS runs as $SHARDS shards"
"$SYN" grid plan "${GRID[@]}" --out "$WORK/cluster"
[ "$(plan_ids "$WORK/cluster" | wc -l)" = $NRUNS ] || fail "plan.jsonl holds $(plan_ids "$WORK/cluster" | wc -l) runs, want $NRUNS"
"$SYN" grid slurm --plan "$WORK/cluster" --shards $SHARDS --cpus 1 --time 30:00
JID=$(sbatch --parsable "$WORK/cluster/grid.sbatch")
JOBS="$JID"
say "array job $JID submitted; the same grid in one process meanwhile"
"$SYN" grid "${GRID[@]}" --out "$WORK/single" >"$WORK/single.stdout" 2>"$WORK/single.log" \
  || fail "single-process grid failed: $(tail -5 "$WORK/single.log")"
say "single-process grid done"
wait_job "$JID"
task_states "$JID" | tee "$WORK/cluster.states"
[ "$(grep -c ' COMPLETED$' "$WORK/cluster.states")" = $SHARDS ] || fail "not every task COMPLETED: $(cat "$WORK/cluster.states")"
say "array done"
"$SYN" grid collect "$WORK/cluster" >"$WORK/cluster.collect" || fail "collect: $(cat "$WORK/cluster.collect")"
grep -q "collected $NRUNS of $NRUNS runs" "$WORK/cluster.collect" || fail "collect: $(head -1 "$WORK/cluster.collect")"
"$SYN" table --in "$WORK/cluster" >"$WORK/cluster.md"
"$SYN" table --in "$WORK/single" >"$WORK/single.md"
# The markdown tables carry no wall times; drop any line that would, as the issue allows.
diff <(grep -vi wall "$WORK/single.md") <(grep -vi wall "$WORK/cluster.md") >"$WORK/table.diff" \
  || fail "tables differ (single-process < > sharded): $(cat "$WORK/table.diff")"
diff <(strip_wall "$WORK/single/results.jsonl") <(strip_wall "$WORK/cluster/results.jsonl") >/dev/null \
  || fail "results.jsonl of the sharded grid differs from the single-process one"
say "OK: sharded results and table equal the single-process ones ($(grep -c '^| ' "$WORK/cluster.md") table lines)"

# ---- 2. kill one task mid-way, resubmit it ----------------------------------------------------
say "kill test"
"$SYN" grid plan "${GRID[@]}" --out "$WORK/kill" >/dev/null
"$SYN" grid slurm --plan "$WORK/kill" --shards $SHARDS --cpus 1 --time 30:00 >/dev/null
JID=$(sbatch --parsable "$WORK/kill/grid.sbatch")
JOBS="$JOBS $JID"
LOG1=$WORK/kill/logs/synergo-grid-${JID}_1.out
deadline=$(( $(date +%s) + 600 ))
until [ -s "$LOG1" ] && [ "$(grep -c 'msg="grid run starting"' "$LOG1")" -ge 2 ]; do
  [ -z "$(squeue -h -j "${JID}_1" 2>/dev/null)" ] && fail "task 1 ended before it could be killed: $(tail -3 "$LOG1" 2>/dev/null)"
  [ "$(date +%s)" -lt "$deadline" ] || fail "task 1 did not start its second run in 600 s"
  sleep 0.1
done
# Cancel at once: a run of this grid takes a few seconds, and a task that
# finished its second run before the scancel would defeat the test.
say "task 1 is in its second run; scancel ${JID}_1"
scancel "${JID}_1"
wait_job "$JID"
task_states "$JID" | tee "$WORK/kill.states"
grep -q '^1 CANCELLED$' "$WORK/kill.states" || fail "task 1 not CANCELLED: $(cat "$WORK/kill.states")"
[ "$(grep -c ' COMPLETED$' "$WORK/kill.states")" = 2 ] || fail "tasks 0 and 2 did not complete: $(cat "$WORK/kill.states")"
if "$SYN" grid collect "$WORK/kill" >"$WORK/kill.collect1" 2>"$WORK/kill.collect1.err"; then
  fail "collect after the kill exited 0; want an incomplete plan"
fi
grep -q '^missing: ' "$WORK/kill.collect1.err" || grep -q 'missing: ' "$WORK/kill.collect1.err" \
  || fail "collect after the kill lists no missing run: $(cat "$WORK/kill.collect1.err")"
say "collect after the kill: $(head -1 "$WORK/kill.collect1"); $(grep -c 'missing: ' "$WORK/kill.collect1.err") missing"
JID2=$(sbatch --parsable --array=1 "$WORK/kill/grid.sbatch")
JOBS="$JOBS $JID2"
say "resubmitted task 1 as job $JID2"
wait_job "$JID2"
task_states "$JID2" | tee "$WORK/kill2.states"
grep -q '^1 COMPLETED$' "$WORK/kill2.states" || fail "resubmitted task not COMPLETED: $(cat "$WORK/kill2.states")"
"$SYN" grid collect "$WORK/kill" >"$WORK/kill.collect2" || fail "collect after the resubmission failed"
grep -q "collected $NRUNS of $NRUNS runs" "$WORK/kill.collect2" || fail "collect: $(head -1 "$WORK/kill.collect2")"
[ "$(ls "$WORK/kill/runs" | grep -c '\.json$')" = $NRUNS ] || fail "runs/ holds $(ls "$WORK/kill/runs") , want $NRUNS result files"
for id in $(plan_ids "$WORK/kill"); do
  [ -s "$WORK/kill/runs/$id.json" ] || fail "run $id has no result file"
  n=$(cat "$WORK"/kill/logs/*.out | grep -c "msg=\"grid run finished\" id=$id " || true)
  [ "$n" = 1 ] || fail "run $id finished $n times over all task logs, want exactly 1"
done
skipped=$(grep -c 'msg="grid run already finished, skipping"' "$WORK/kill/logs/synergo-grid-${JID2}_1.out" || true)
[ "$skipped" -ge 1 ] || fail "the resubmitted task skipped no finished run"
diff <(strip_wall "$WORK/cluster/results.jsonl") <(strip_wall "$WORK/kill/results.jsonl") >/dev/null \
  || fail "results after kill and resubmission differ from the uninterrupted ones"
"$SYN" table --in "$WORK/kill" | diff "$WORK/cluster.md" - >/dev/null || fail "table after kill and resubmission differs"
say "OK: after the kill and the resubmission each of the $NRUNS runs finished exactly once ($skipped skipped on resubmission), same results"
say "PASS in $(( $(date +%s) - T0 )) s"
if [ -z "$KEEP_WORK" ]; then rm -rf "$WORK"; fi
