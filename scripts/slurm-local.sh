#!/usr/bin/env bash
# slurm-local.sh: a single-node Slurm on this machine, from Debian's
# packages, for pagelab's cluster path (pagelab submit) — what CI brings up
# and how a developer tries the path locally. As root:
#
#   scripts/slurm-local.sh install           # apt-get the packages (~10 s)
#   eval "$(scripts/slurm-local.sh up DIR)"  # start; exports SLURM_CONF
#   sbatch --wrap hostname ...
#   scripts/slurm-local.sh down DIR          # stop the daemons by PID
#
# No systemd: munged runs as the munge user with /run/munge created, and
# slurmctld and slurmd are started by hand. The configuration is the least
# that works on one node: proctrack/linuxproc, task/none, no accounting,
# the node's CPUs and memory as slurmd -C reports them, no batch
# scheduling delay; state, spool and logs under DIR.
set -euo pipefail

cmd=${1:-}
dir=${2:-}

case "$cmd" in
install)
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		slurmctld slurmd slurm-client munge >/dev/null
	;;
up)
	[ -n "$dir" ] || { echo "usage: $0 up DIR" >&2; exit 2; }
	mkdir -p "$dir"/state "$dir"/spool "$dir"/log
	dir=$(cd "$dir" && pwd)
	chown slurm: "$dir"/state
	# munge: its key comes with the package.
	mkdir -p /run/munge
	chown munge: /run/munge
	chmod 0755 /run/munge
	if ! pgrep -x munged >/dev/null; then
		runuser -u munge -- /usr/sbin/munged
	fi
	node=$(slurmd -C | head -1)
	cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
	mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
	cat >"$dir"/slurm.conf <<CONF
ClusterName=pagelab
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
MpiDefault=none
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
	export SLURM_CONF="$dir"/slurm.conf
	/usr/sbin/slurmctld -f "$SLURM_CONF"
	/usr/sbin/slurmd -f "$SLURM_CONF" -N localhost
	# Wait until the node is idle: the controller answers and the node
	# registered.
	for _ in $(seq 100); do
		if sinfo -h -N -o %T 2>/dev/null | grep -qx idle; then
			echo "export SLURM_CONF=$SLURM_CONF"
			exit 0
		fi
		sleep 0.2
	done
	echo "slurm-local.sh: the node did not come up; see $dir/log" >&2
	exit 1
	;;
down)
	[ -n "$dir" ] || { echo "usage: $0 down DIR" >&2; exit 2; }
	pids=()
	for p in "$dir"/slurmd.pid "$dir"/slurmctld.pid; do
		if [ -f "$p" ]; then
			pids+=("$(cat "$p")")
		fi
	done
	if [ ${#pids[@]} -gt 0 ]; then
		kill "${pids[@]}" 2>/dev/null || true
		# Wait (at most 10 s) until they are gone.
		for _ in $(seq 50); do
			kill -0 "${pids[@]}" 2>/dev/null || break
			sleep 0.2
		done
	fi
	;;
*)
	echo "usage: $0 install | up DIR | down DIR" >&2
	exit 2
	;;
esac
