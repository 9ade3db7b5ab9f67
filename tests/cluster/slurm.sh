#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the tests marked `cluster` (tests/test_cluster.py).
#
#   tests/cluster/slurm.sh start DIR   install slurm-wlm + munge if missing, start munged, slurmctld
#                                      and slurmd with all their state in DIR, wait for the node
#   tests/cluster/slurm.sh stop DIR    cancel the cluster's jobs, then end the daemons started in DIR
#   tests/cluster/slurm.sh env DIR     print the environment that points SLURM's commands at it:
#                                      SLURM_CONF, and DIR/bin first in PATH (see below)
#
# Everything lives in DIR (created if missing; `stop` leaves it for inspection): slurm.conf, munge's
# key and socket, the spool directories, the daemons' logs and pids/*.pid. The daemons run in the
# foreground of background processes, so the PIDs written to pids/ are this script's own record of
# what it started, and `stop` ends exactly those (after checking that each PID still runs the same
# program). Nothing under /etc or /run is used: several clusters (or none) can run side by side and
# the machine's own munge/slurm configuration, if any, is left alone. No systemd is assumed.
#
# The cluster is what a test needs, not what a site runs (see slurm.conf below): no accounting
# database (so `sacct` knows nothing: the workflow's test profile uses `squeue` for job states,
# which MinJobAge keeps answering for 10 minutes after a job ends), processes tracked without
# cgroups, and memory enforced by sampling (OverMemoryKill) so that a job exceeding mem_mb is
# killed as on a real cluster. Its one partition, `test`, is not a default partition: as on many
# sites, a job must name its partition.
#
# DIR/bin/srun: the plugin's job step (snakemake-executor-plugin-slurm-jobstep 0.6.1) starts the
# rule inside each job with `srun`, after removing every SLURM_* variable, SLURM_CONF included, from
# its environment. On a real cluster srun then reads /etc/slurm/slurm.conf; here it would find no
# configuration, so jobs run with DIR/bin first in PATH, where `srun` puts SLURM_CONF back.
#
# Needs root (apt-get, and munged runs as the `munge` user). Takes about 45 s the first time
# (installing the packages), then about 5 s.
set -euo pipefail

PARTITION=test
PACKAGES=(slurm-wlm munge)

usage() {
    echo "usage: $0 start|stop|env DIR" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
action=$1
dir=$2

log() { echo "slurm.sh: $*" >&2; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && command -v sbatch >/dev/null; then
        return
    fi
    [[ $(id -u) -eq 0 ]] || { log "slurm-wlm and munge are missing; run as root to install them"; exit 1; }
    log "installing ${PACKAGES[*]} with apt-get"
    # Debian starts a service when its package is installed, unless /usr/sbin/policy-rc.d says no;
    # without one (most containers have one), keep the package scripts from starting daemons that
    # this script would not know about, for the time of the install.
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local status=0
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${PACKAGES[@]}" >/dev/null; } || status=$?
    [[ -z $made_policy ]] || rm -f "$policy"
    [[ $status -eq 0 ]] || { log "apt-get install ${PACKAGES[*]} failed"; exit 1; }
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config() {
    local node ctld_port slurmd_port
    # `slurmd -C` prints this machine as a node line: NodeName=<host> CPUs=... RealMemory=...
    node=$(slurmd -C | head -1)
    [[ $node == NodeName=* ]] || { log "unexpected output of slurmd -C: $node"; exit 1; }
    host=${node%% *}
    host=${host#NodeName=}
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    while [[ $slurmd_port == "$ctld_port" ]]; do slurmd_port=$(free_port); done
    cat >"$dir/slurm.conf" <<EOF
# Written by tests/cluster/slurm.sh: a single-node test cluster, everything under $dir
ClusterName=mnistflow-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/spool/slurmctld
SlurmdSpoolDir=$dir/spool/slurmd
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# no cgroups: processes are found through /proc, tasks are not bound to cores
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# cores and memory are the consumable resources, so jobs that fit share the node
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# no accounting database: sacct has nothing, squeue keeps ended jobs for MinJobAge seconds
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
# memory use sampled every second; a job step above its --mem is killed (state OUT_OF_MEMORY)
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
# a cancelled or timed-out job gets SIGTERM, then SIGKILL 10 s later
KillWait=10
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
$node State=UNKNOWN NodeAddr=127.0.0.1
PartitionName=$PARTITION Nodes=$host Default=NO MaxTime=INFINITE State=UP
EOF
}

# start_daemon NAME CMD...: run CMD in the background (in the foreground of its own process, so
# that $! is the daemon), its output in log/NAME.out, its PID in pids/NAME.pid.
start_daemon() {
    local name=$1
    shift
    "$@" </dev/null >"$dir/log/$name.out" 2>&1 &
    echo $! >"$dir/pids/$name.pid"
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.5 s until it succeeds, or fail after SECONDS
# (at once if a daemon started here has ended).
wait_until() {
    local seconds=$1 what=$2 i name
    shift 2
    for ((i = 0; i < seconds * 2; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        for name in munged slurmctld slurmd; do
            if [[ -e $dir/pids/$name.pid ]] && ! running "$name"; then
                log "$name ended while waiting for $what; logs in $dir/log"
                tail -n 20 "$dir"/log/*.out >&2 || true
                return 1
            fi
        done
        sleep 0.5
    done
    log "timed out after ${seconds}s waiting for $what; logs in $dir/log"
    tail -n 20 "$dir"/log/* >&2 || true
    return 1
}

node_idle() {
    [[ $(sinfo -h -p "$PARTITION" -o %t 2>/dev/null) == idle ]]
}

running() {  # running NAME: the daemon recorded in pids/NAME.pid still runs
    local pid
    pid=$(cat "$dir/pids/$1.pid" 2>/dev/null) || return 1
    [[ -n $pid && -r /proc/$pid/cmdline ]] && tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- "$1"
}

start() {
    install_packages
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ -e $dir/pids ]] && { running munged || running slurmctld || running slurmd; }; then
        log "a cluster already runs in $dir; stop it first"
        exit 1
    fi
    rm -rf "$dir/munge" "$dir/spool" "$dir/run" "$dir/log" "$dir/pids" "$dir/bin"
    mkdir -p "$dir/spool/slurmctld" "$dir/spool/slurmd" "$dir/run" "$dir/log" "$dir/pids" "$dir/munge"
    # munged runs as `munge` and insists that its directory is its own, not writable by others and
    # open to all (clients reach its socket there), and that its key is private
    chmod 755 "$dir"
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    chown -R munge:munge "$dir/munge"
    chmod 755 "$dir/munge"
    chmod 400 "$dir/munge/munge.key"
    write_config
    export SLURM_CONF=$dir/slurm.conf
    mkdir -p "$dir/bin"
    printf '#!/bin/sh\n# see tests/cluster/slurm.sh\nSLURM_CONF=%q exec %q "$@"\n' \
        "$SLURM_CONF" "$(command -v srun)" >"$dir/bin/srun"
    chmod 755 "$dir/bin/srun"
    trap 'log "start failed; stopping what was started"; stop' ERR

    start_daemon munged setpriv --reuid=munge --regid=munge --init-groups \
        munged --foreground --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munged.seed"
    wait_until 20 "munged" test -S "$dir/munge/munge.socket"
    start_daemon slurmctld slurmctld -D -i -f "$SLURM_CONF"
    wait_until 30 "slurmctld" scontrol ping
    start_daemon slurmd slurmd -D -f "$SLURM_CONF"
    wait_until 60 "the node to be idle (sinfo)" node_idle
    trap - ERR
    log "cluster up in $dir: node $host, partition $PARTITION; export SLURM_CONF=$SLURM_CONF"
}

# stop_daemon NAME: SIGTERM to the PID recorded in pids/NAME.pid, SIGKILL after 15 s.
stop_daemon() {
    local name=$1 pid i
    running "$name" || { rm -f "$dir/pids/$name.pid"; return 0; }
    pid=$(cat "$dir/pids/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        running "$name" || break
        sleep 0.5
    done
    if running "$name"; then
        log "$name ($pid) did not stop on SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pids/$name.pid"
}

stop() {
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd)
    export SLURM_CONF=$dir/slurm.conf
    # Jobs first: their processes (slurmstepd and below) outlive slurmd, so cancel every job of this
    # cluster and wait (bounded) until none is left running, while slurmctld and slurmd still run.
    if running slurmctld && running slurmd; then
        local jobs
        jobs=$(squeue -h -t pending,running,suspended,completing -o %i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            wait_until 30 "the cancelled jobs to end" \
                test -z "$(squeue -h -t pending,running,suspended,completing -o %i)" || true
        fi
    fi
    stop_daemon slurmd
    stop_daemon slurmctld
    stop_daemon munged
    log "cluster in $dir stopped"
}

case $action in
    start) start ;;
    stop) stop ;;
    env)
        dir=$(cd "$dir" && pwd)
        echo "export SLURM_CONF=$dir/slurm.conf PATH=$dir/bin:\$PATH"
        ;;
    *) usage ;;
esac
