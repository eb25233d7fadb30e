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
# install does nothing when the packages are there, and runs apt-get update
# first when apt-get install fails (a fresh machine has no package lists).
#
# No systemd: munged runs as the munge user with /run/munge created (unless
# one already answers), and slurmctld and slurmd are started by hand; down
# stops what up started, by PID. The configuration is the least that works
# on one node: proctrack/linuxproc, task/none, no accounting, the node's
# CPUs and memory as slurmd -C reports them, no batch scheduling delay;
# state, spool and logs under DIR.
set -euo pipefail

cmd=${1:-}
dir=${2:-}

# stop PIDFILE...: SIGTERM to the daemons the files name (the files are
# removed), then wait, at most 10 s, until every one has exited (a zombie
# has: its parent may be slow to reap it).
stop() {
	local pids=() p state alive
	for p in "$@"; do
		if [ -f "$p" ]; then
			pids+=("$(cat "$p")")
			rm -f "$p"
		fi
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 50); do
		alive=0
		for p in "${pids[@]}"; do
			state=$(ps -o stat= -p "$p" 2>/dev/null || true)
			case $state in
			"" | Z*) ;;
			*) alive=1 ;;
			esac
		done
		[ $alive = 1 ] || return 0
		sleep 0.2
	done
}

case "$cmd" in
install)
	pkgs=(slurmctld slurmd slurm-client munge)
	installed=$(dpkg-query -W -f '${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null | grep -cx installed || true)
	if [ "$installed" -ne ${#pkgs[@]} ]; then
		export DEBIAN_FRONTEND=noninteractive
		# A fresh machine may have no package lists, or stale ones.
		if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; then
			echo "slurm-local.sh: apt-get install failed; updating the package lists and trying again" >&2
			apt-get update >/dev/null
			apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null
		fi
	fi
	;;
up)
	[ -n "$dir" ] || { echo "usage: $0 up DIR" >&2; exit 2; }
	mkdir -p "$dir"/state "$dir"/spool "$dir"/log
	dir=$(cd "$dir" && pwd)
	# slurmctld runs as the slurm user: it must reach its state (a
	# mktemp -d directory is 0700).
	chmod go+rx "$dir"
	chown slurm: "$dir"/state
	# munge: its key comes with the package. Started here unless a munged
	# already answers; then down stops it (by the PID recorded here).
	mkdir -p /run/munge
	chown munge: /run/munge
	chmod 0755 /run/munge
	if ! munge -n </dev/null >/dev/null 2>&1; then
		rm -f /run/munge/munged.pid
		runuser -u munge -- /usr/sbin/munged
		cp /run/munge/munged.pid "$dir"/munged.pid
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
	# The Slurm daemons first, then the munged that up started, if any.
	stop "$dir"/slurmd.pid "$dir"/slurmctld.pid
	stop "$dir"/munged.pid
	;;
*)
	echo "usage: $0 install | up DIR | down DIR" >&2
	exit 2
	;;
esac
