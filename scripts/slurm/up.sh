#!/usr/bin/env bash
# Start a single-node Slurm cluster on this machine (Debian 12, root, no systemd, no cgroups),
# as this script sets it up: munge as the munge user, slurmctld and slurmd in the
# foreground under nohup (there is no systemd), proctrack/linuxproc + task/none, select/cons_tres with CR_Core so that
# array tasks share the node. Waits until the node is idle.
#
#   SYNERGO_SLURM_BASE  folder of config, state, spool and logs (default /tmp/synergo-slurm)
#
# Afterwards every Slurm client needs SLURM_CONF=$SYNERGO_SLURM_BASE/etc/slurm.conf.
# Stop with scripts/slurm/down.sh. Running up.sh while the cluster is up does nothing.
set -euo pipefail
BASE=${SYNERGO_SLURM_BASE:-/tmp/synergo-slurm}
export SLURM_CONF=$BASE/etc/slurm.conf DEBIAN_FRONTEND=noninteractive
t0=$(date +%s%N)

if [ "$(id -u)" != 0 ]; then echo "up.sh: needs root (installs packages, runs munged as munge)" >&2; exit 1; fi

if [ -s "$SLURM_CONF" ] && [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; then
  echo "up.sh: Slurm already up ($SLURM_CONF)"; exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
   || ! command -v munged >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# munge: the package's postinst creates the key; make one if it is missing.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! { [ -s /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; }; then
  runuser -u munge -- /usr/sbin/munged   # as root it refuses: "PRNG seed dir is insecure"
fi
for _ in $(seq 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
munge -n | unmunge >/dev/null

mkdir -p "$BASE"/{etc,state,spool,log,run}
NODELINE=$(slurmd -C | head -1)   # the full line; CPUs alone makes slurmd complain about cores
cat > "$SLURM_CONF" <<EOC
ClusterName=synergo-ci
SlurmctldHost=$(hostname -s)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$NODELINE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOC

nohup slurmctld -D >"$BASE/log/slurmctld.stdout" 2>&1 &
echo $! >"$BASE/run/slurmctld.bgpid"
nohup slurmd -D >"$BASE/log/slurmd.stdout" 2>&1 &
echo $! >"$BASE/run/slurmd.bgpid"

for _ in $(seq 300); do [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.1; done
state=$(sinfo -h -o %t 2>/dev/null || true)
if [ "$state" != idle ]; then
  echo "up.sh: node state '$state' after 30 s, want idle; logs in $BASE/log:" >&2
  tail -n 20 "$BASE"/log/*.log >&2 || true
  exit 1
fi
echo "up.sh: Slurm up in $(( ($(date +%s%N) - t0) / 1000000 )) ms; export SLURM_CONF=$SLURM_CONF"
