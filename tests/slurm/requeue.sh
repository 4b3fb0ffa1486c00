#!/usr/bin/env bash
# A real single-node SLURM (munge, slurmctld, slurmd on localhost, private state in a temp
# folder): submit jobs/dkv-cpu.sbatch, requeue it mid-run with `scontrol requeue`, and check
# that the rerun resumes and ends with the numbers of an uninterrupted run.
export DKV_TEST_HIDDEN=256  # slow enough to be requeued mid-run
source "$(dirname "$0")/../mpi/common.sh" "$@"
for tool in slurmctld slurmd sbatch munged mungekey; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (Debian: slurm-wlm munge)"; exit 1; }
done
D=$T/slurm
mkdir -p "$D"/{munge,state,spool,log}
chmod 700 "$D/munge"
export SLURM_CONF=$D/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=dkvtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.sock,cred_expire=10
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=sched_interval=1
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=30
MinJobAge=300
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
stop_slurm() {  # our daemons only, by pid file, slurmd first
  for p in slurmd slurmctld munge/munged; do
    f=$D/$p.pid; [ -f "$f" ] || continue; pid=$(cat "$f"); kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
trap 'stop_slurm; rm -rf "$T"' EXIT
mungekey -c -k "$D/munge/munge.key"
munged -f --key-file="$D/munge/munge.key" --socket="$D/munge/munge.sock" \
  --pid-file="$D/munge/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/munged.seed"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 1 60); do sinfo -h -o %T 2>/dev/null | grep -qx idle && break; sleep 0.5; done
sinfo -h -o %T | grep -qx idle || { echo "FAIL: slurm did not come up"; tail -n 20 "$D"/log/*.log; exit 1; }

N=24
write_config ref $N 60
"$DKV" run "$T/ref.yaml" --quiet >/dev/null
write_config job $N 60
R=$T/out-job/results.h5
J=$(cd "$SRC" && sbatch --parsable --chdir="$SRC" -o "$T/job.out" \
      --export=ALL,CONFIG="$T/job.yaml",DKV="$DKV",DKV_RUN_ARGS=--quiet jobs/dkv-cpu.sbatch)
echo "submitted job $J"
requeued=0
for _ in $(seq 1 600); do
  state=$(scontrol show job "$J" | sed -nE 's/.*JobState=([A-Z_]+).*/\1/p')
  if [ "$requeued" = 0 ] && [ -f "$R" ] && [ "$(done_count "$R")" -ge 2 ]; then
    echo "requeueing at $(done_count "$R")/$N samples"
    scontrol requeue "$J"
    requeued=1
  fi
  if [ "$requeued" = 1 ] && [ "$state" = PENDING ]; then
    scontrol update JobId="$J" StartTime=now 2>/dev/null || true
  fi
  [ "$state" = COMPLETED ] && break
  case "$state" in FAILED|CANCELLED|TIMEOUT|NODE_FAIL) echo "FAIL: job $state"; cat "$T/job.out"; exit 1;; esac
  sleep 0.5
done
cat "$T/job.out"
[ "$requeued" = 1 ] || { echo "FAIL: the job finished before it could be requeued"; exit 1; }
scontrol show job "$J" | grep -q "Restarts=[1-9]" || { echo "FAIL: no restart recorded"; exit 1; }
[ "$(done_count "$R")" = "$N" ] || { echo "FAIL: job ended with $(done_count "$R")/$N"; exit 1; }
same_numbers "$T/out-ref/results.h5" "$R"
echo "requeued job resumed and equals the uninterrupted run"
