#!/usr/bin/env bash
# Starts the real services the integration tests talk to, idempotently, as root:
#   users   orrery-test, orrery-gpu (a fake two-A100 nvidia-smi on its PATH) and orrery-bare (a
#           `node` on its PATH that reports v16.20.2: a host Orrery must provision Node on), their keys;
#           orrery-intruder, a second local user (no SSH login) for the cross-user security tests
#   sshd    a private OpenSSH server on 127.0.0.1:2222, known_hosts files for it
#   munge   the Slurm authentication daemon
#   slurm   a one-node cluster (slurmctld + slurmd, partition debug, two fake A100 GPUs)
#   slurm-pair  a second cluster of two nodes on this machine (two slurmd, partition pair),
#           chosen with SLURM_CONF=$ROOT/slurm-pair/slurm.conf: multi-node gangs
#   keyring gnome-keyring on a private D-Bus session bus (checked through keyring.sh)
#   dask    python3-distributed, the benchmark peer (checked, nothing to start)
#   podman  containers.conf for this host (runc, ulimits); the image localhost/orrery-busybox
#           for root and, rootless and built over ssh, for orrery-test
#   registry a private image registry on 127.0.0.1:5055 (plain HTTP) holding orrery-busybox
# A service already running with the same configuration is left alone, so a re-run is fast.
# Prints one line per service, `ok` or `FAILED` with the reason; exits 1 if any failed.
# The fixed names and paths here are mirrored in env.ts.
set -uo pipefail

ROOT=/var/lib/orrery-test
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SSH_PORT=2222
USERS=(orrery-test orrery-gpu orrery-bare)
PASSPHRASE=orrery-pass
HOST=$(hostname)
DEFAULT_PATH=/usr/local/bin:/usr/bin:/bin:/usr/games

if [[ $(id -u) -ne 0 ]]; then
  echo "start.sh: must run as root (it creates users and starts daemons)" >&2
  exit 1
fi
mkdir -p "$ROOT"
chmod 755 "$ROOT"
# Two starts at once (CI and a test's setup) would race on the same pid files, so the script
# re-runs itself under a lock. -o keeps the lock's descriptor out of the daemons started here,
# which would otherwise hold the lock for as long as they live.
if [[ -z ${ORRERY_SERVICES_LOCKED-} ]]; then
  exec env ORRERY_SERVICES_LOCKED=1 flock -o "$ROOT/start.lock" bash "${BASH_SOURCE[0]}" "$@"
fi
unset ORRERY_SERVICES_LOCKED

# --- helpers --------------------------------------------------------------------------------

fail() { echo "$*" >&2; exit 1; }

# write_if_changed <path> <mode>: replaces <path> with stdin when the content differs;
# returns 0 when it wrote, 1 when the file was already up to date.
write_if_changed() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    chmod "$mode" "$path"
    return 1
  fi
  install -m "$mode" "$tmp" "$path"
  rm -f "$tmp"
  return 0
}

# pid_running <pidfile> <text in its command line>: the pid in the file when that process
# is alive and is the expected program (pid files outlive their processes).
pid_running() {
  local file=$1 text=$2 pid
  [[ -f $file ]] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$text" || return 1
  echo "$pid"
}

# stop_pid <pidfile> <text>: ends the process of a pid file and waits until it is gone.
stop_pid() {
  local pid i
  pid=$(pid_running "$1" "$2") || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    [[ -d /proc/$pid ]] || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# wait_for <seconds> <command...>: polls the command every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

home_of() { getent passwd "$1" | cut -d: -f6; }

ssh_as() { # ssh_as <user> <command>: a non-interactive command through the test sshd
  local user=$1
  shift
  timeout 30 ssh -n -p "$SSH_PORT" -i "$ROOT/keys/id_ed25519" -o BatchMode=yes \
    -o UserKnownHostsFile="$ROOT/known_hosts" -o StrictHostKeyChecking=yes \
    -o ConnectTimeout=5 "$user@127.0.0.1" "$@"
}

# --- users, keys, node, fake nvidia-smi ------------------------------------------------------

start_users() {
  local keys=$ROOT/keys u home node_bin
  install -d -m 700 "$keys"
  [[ -f $keys/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C orrery-test -f "$keys/id_ed25519"
  [[ -f $keys/id_ed25519_pass ]] ||
    ssh-keygen -q -t ed25519 -N "$PASSPHRASE" -C orrery-test-pass -f "$keys/id_ed25519_pass"
  chmod 600 "$keys/id_ed25519" "$keys/id_ed25519_pass"
  ssh-keygen -y -P "$PASSPHRASE" -f "$keys/id_ed25519_pass" >/dev/null ||
    fail "$keys/id_ed25519_pass does not open with the passphrase $PASSPHRASE (delete it to regenerate)"

  for u in "${USERS[@]}"; do
    id -u "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
    # useradd leaves the account locked ('!'), and sshd then refuses even key logins.
    [[ $(getent shadow "$u" | cut -d: -f2) == '*' ]] || usermod -p '*' "$u"
    home=$(home_of "$u")
    install -d -m 700 -o "$u" -g "$u" "$home/.ssh"
    cat "$keys/id_ed25519.pub" "$keys/id_ed25519_pass.pub" |
      write_if_changed "$home/.ssh/authorized_keys" 600 || true
    chown "$u:$u" "$home/.ssh/authorized_keys"
  done

  # The "other user on the same machine" of the security tests: no SSH login, no keys.
  id -u orrery-intruder >/dev/null 2>&1 || useradd -m -s /bin/bash orrery-intruder
  runuser -u orrery-intruder -- true || fail "cannot run commands as orrery-intruder"

  # Only orrery-gpu sees nvidia-smi: ~/bin is on its PATH through sshd (SetEnv) and ~/.profile.
  home=$(home_of orrery-gpu)
  install -d -m 755 -o orrery-gpu -g orrery-gpu "$home/bin"
  install -m 755 "$HERE/fake-nvidia-smi" "$home/bin/nvidia-smi"

  # orrery-bare's PATH (sshd SetEnv) finds a node that is too old: Orrery must provision its own.
  home=$(home_of orrery-bare)
  install -d -m 755 -o orrery-bare -g orrery-bare "$home/bin"
  printf '#!/bin/sh\necho v16.20.2\n' | write_if_changed "$home/bin/node" 755 || true
  chown orrery-bare:orrery-bare "$home/bin/node"

  # The agent runs `node` over a non-interactive ssh command, whose PATH is sshd's default.
  node_bin=$(command -v node) || fail "node is not on root's PATH"
  if ! PATH=$DEFAULT_PATH command -v node >/dev/null; then
    ln -sf "$(readlink -f "$node_bin")" /usr/local/bin/node
  fi
  runuser -u orrery-test -- env -i PATH=$DEFAULT_PATH node --version >/dev/null ||
    fail "orrery-test cannot run node from $DEFAULT_PATH (node is $(readlink -f "$node_bin"))"
  echo "${USERS[*]} orrery-intruder; keys in $keys; node $(node --version)"
}

# --- sshd ------------------------------------------------------------------------------------

start_sshd() {
  local dir=$ROOT/sshd pid changed=0 wrong_pub
  install -d -m 700 "$dir"
  mkdir -p /run/sshd
  chmod 755 /run/sshd
  [[ -f $dir/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C orrery-test-host -f "$dir/ssh_host_ed25519_key"
  [[ -f $dir/wrong_host_key ]] || ssh-keygen -q -t ed25519 -N '' -C orrery-test-wrong -f "$dir/wrong_host_key"

  write_if_changed "$dir/sshd_config" 600 <<EOF && changed=1
# Orrery's test sshd (test/services/start.sh); not the system's sshd.
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
Subsystem sftp internal-sftp
MaxSessions 10
MaxStartups 50:30:100
AllowUsers ${USERS[*]}
PrintMotd no
LogLevel VERBOSE
Match User orrery-gpu
  SetEnv PATH=$(home_of orrery-gpu)/bin:$DEFAULT_PATH
Match User orrery-bare
  SetEnv PATH=$(home_of orrery-bare)/bin:$DEFAULT_PATH
EOF
  /usr/sbin/sshd -t -f "$dir/sshd_config" || fail "sshd -t rejects $dir/sshd_config"

  # known_hosts: the real host key (plain and hashed) and a wrong key for the same host.
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1-2 "$dir/ssh_host_ed25519_key.pub")" |
    write_if_changed "$ROOT/known_hosts" 644 && rm -f "$ROOT/known_hosts_hashed"
  if [[ ! -f $ROOT/known_hosts_hashed ]]; then
    cp "$ROOT/known_hosts" "$ROOT/known_hosts_hashed"
    ssh-keygen -q -H -f "$ROOT/known_hosts_hashed" >/dev/null
    rm -f "$ROOT/known_hosts_hashed.old"
    chmod 644 "$ROOT/known_hosts_hashed"
  fi
  wrong_pub=$(cut -d' ' -f1-2 "$dir/wrong_host_key.pub")
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$wrong_pub" | write_if_changed "$ROOT/known_hosts_wrong" 644 || true

  if pid=$(pid_running "$dir/sshd.pid" "$dir/sshd_config"); then
    # SIGHUP makes sshd re-exec itself with the new configuration.
    if ((changed)); then kill -HUP "$pid"; sleep 0.3; fi
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null; then
      fail "127.0.0.1:$SSH_PORT is taken by another program: $(ss -ltnpH "sport = :$SSH_PORT" 2>/dev/null | grep -o 'users:.*' || echo unknown)"
    fi
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" ||
      fail "sshd did not start: $(tail -n 3 "$dir/sshd.log" | tr '\n' ' ')"
  fi
  wait_for 10 pid_running "$dir/sshd.pid" "$dir/sshd_config" ||
    fail "sshd exited: $(tail -n 3 "$dir/sshd.log" | tr '\n' ' ')"
  pid=$(pid_running "$dir/sshd.pid" "$dir/sshd_config")

  local out
  out=$(ssh_as orrery-test 'node --version' 2>&1) ||
    fail "ssh orrery-test@127.0.0.1:$SSH_PORT failed: $out (see $dir/sshd.log)"
  [[ $out == "$(node --version)" ]] || fail "remote node --version printed '$out'"
  out=$(ssh_as orrery-gpu 'nvidia-smi -L' 2>&1) || fail "orrery-gpu: nvidia-smi -L failed: $out"
  [[ $(grep -c '^GPU ' <<<"$out") -eq 2 ]] || fail "orrery-gpu: nvidia-smi -L printed '$out'"
  out=$(ssh_as orrery-bare 'node --version' 2>&1) || fail "orrery-bare: node --version failed: $out"
  [[ $out == v16.20.2 ]] || fail "orrery-bare: node --version printed '$out' (expected the fake v16.20.2)"
  if ssh_as orrery-test 'command -v nvidia-smi' >/dev/null 2>&1; then
    fail "orrery-test must not see nvidia-smi"
  fi
  out=$(timeout 30 sftp -q -P "$SSH_PORT" -i "$ROOT/keys/id_ed25519" -o BatchMode=yes \
    -o UserKnownHostsFile="$ROOT/known_hosts" -b - orrery-test@127.0.0.1 <<<'pwd' 2>&1) ||
    fail "sftp failed: $out"
  echo "127.0.0.1:$SSH_PORT pid $pid; node, sftp, nvidia-smi (orrery-gpu), old node (orrery-bare) checked"
}

# --- munge -----------------------------------------------------------------------------------

start_munge() {
  local key=/etc/munge/munge.key restart=0
  if [[ ! -f $key || $(stat -c %s "$key") -ne 1024 ]]; then
    install -d -m 700 -o munge -g munge /etc/munge
    dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    restart=1
  fi
  chown munge:munge "$key"
  chmod 400 "$key"
  install -d -m 755 -o munge -g munge /run/munge
  install -d -m 700 -o munge -g munge /var/lib/munge /var/log/munge

  if ((restart == 0)) && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "running; key $key"
    return 0
  fi
  stop_pid /run/munge/munged.pid munged
  # --force: start even when a dead munged left its socket behind.
  runuser -u munge -- /usr/sbin/munged --force ||
    fail "munged did not start: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null | tr '\n' ' ')"
  wait_for 10 sh -c 'munge -n | unmunge' ||
    fail "munge -n | unmunge fails: $(munge -n 2>&1 | unmunge 2>&1 | tail -n 1)"
  echo "started; key $key"
}

# --- slurm -----------------------------------------------------------------------------------

node_state() { sinfo -h -n "$HOST" -o %t 2>/dev/null | head -n 1; }
node_usable() { [[ $(node_state) =~ ^(idle|mix|alloc)$ ]]; }

start_slurm() {
  local dir=$ROOT/slurm gpu_dir=$ROOT/fake-gpu changed=0 i state out
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || fail "munge is not running"
  install -d -m 755 "$dir" "$dir/state" "$dir/spool" /etc/slurm
  # Slurm wants device files for GPUs; these are /dev/null's numbers, so nothing opens a real GPU.
  install -d -m 755 "$gpu_dir"
  for i in 0 1; do
    [[ -c $gpu_dir/nvidia$i ]] || mknod -m 666 "$gpu_dir/nvidia$i" c 1 3
  done

  write_if_changed /etc/slurm/slurm.conf 644 <<EOF && changed=1
# Orrery's one-node test cluster (test/services/start.sh).
ClusterName=orrery
SlurmctldHost=$HOST(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job without --mem takes the whole node's memory and runs alone.
DefMemPerCPU=2000
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Take the node back after a restart, and trust the configured CPUs/memory over what slurmd sees.
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
InactiveLimit=0
GresTypes=gpu
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=2 RealMemory=8000 Gres=gpu:a100:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  write_if_changed /etc/slurm/gres.conf 644 <<EOF && changed=1
# Two fake A100s for Orrery's tests: device files with /dev/null's numbers (see start.sh).
NodeName=$HOST Name=gpu Type=a100 File=$gpu_dir/nvidia[0-1]
EOF

  if ((changed)); then
    stop_pid "$dir/slurmd.pid" slurmd
    stop_pid "$dir/slurmctld.pid" slurmctld
  fi
  if ! pid_running "$dir/slurmctld.pid" slurmctld >/dev/null; then
    /usr/sbin/slurmctld || fail "slurmctld did not start: $(tail -n 3 "$dir/slurmctld.log" | tr '\n' ' ')"
  fi
  wait_for 20 sh -c 'scontrol ping | grep -q UP' ||
    fail "slurmctld is not answering: $(tail -n 3 "$dir/slurmctld.log" | tr '\n' ' ')"
  if ! pid_running "$dir/slurmd.pid" slurmd >/dev/null; then
    /usr/sbin/slurmd || fail "slurmd did not start: $(tail -n 3 "$dir/slurmd.log" | tr '\n' ' ')"
  fi
  if ! wait_for 30 node_usable; then
    # A node left down or drained by an earlier run is taken back once.
    scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
    wait_for 15 node_usable ||
      fail "node $HOST is '$(node_state)': $(sinfo -h -R -o '%E' 2>/dev/null | head -n 1); see $dir/slurmd.log"
  fi
  state=$(node_state)
  if [[ $state != idle ]]; then
    # Jobs of a test run hold the node: a check job would queue behind them.
    echo "node $HOST $state (2 CPUs, 8000 MB, gpu:a100:2), partition debug; jobs running, srun checks skipped"
    return 0
  fi

  out=$(runuser -u orrery-test -- timeout 60 srun --quiet -N1 hostname 2>&1 </dev/null) || fail "srun as orrery-test failed: $out"
  [[ $out == "$HOST" ]] || fail "srun -N1 hostname printed '$out'"
  local via_ssh='via ssh'
  if [[ ${status[sshd]-} == ok ]]; then
    out=$(ssh_as orrery-test 'srun --quiet -N1 hostname' 2>&1) || fail "ssh -> srun failed: $out"
    [[ $out == "$HOST" ]] || fail "ssh -> srun -N1 hostname printed '$out'"
  else
    via_ssh='not via ssh (sshd failed)'
  fi
  out=$(runuser -u orrery-test -- timeout 60 srun --quiet -N1 --gres=gpu:a100:2 sh -c 'echo $CUDA_VISIBLE_DEVICES' 2>&1 </dev/null) ||
    fail "srun --gres=gpu:a100:2 failed: $out"
  [[ $out == 0,1 ]] || fail "srun --gres=gpu:a100:2 saw CUDA_VISIBLE_DEVICES='$out'"
  echo "node $HOST $state (2 CPUs, 8000 MB, gpu:a100:2), partition debug; srun checked locally, $via_ssh and with --gres"
}

# --- keyring, dask ---------------------------------------------------------------------------

start_keyring() {
  local repo out
  repo=$(cd "$HERE/../.." && pwd)
  out=$(bash "$HERE/keyring.sh" true 2>&1 >/dev/null) || fail "$out"
  if [[ -d $repo/node_modules/@napi-rs/keyring ]]; then
    out=$(cd "$repo" && bash "$HERE/keyring.sh" node --input-type=module -e "
      import { Entry } from '@napi-rs/keyring';
      const e = new Entry('orrery-services-check', 'probe');
      e.setPassword('s3cret');
      if (e.getPassword() !== 's3cret') throw new Error('read back ' + e.getPassword());
      e.deletePassword();
      console.log('set/get/delete');" 2>"$ROOT/keyring-check.log") ||
      fail "@napi-rs/keyring round trip failed: $(tail -n 3 "$ROOT/keyring-check.log" | tr '\n' ' ')"
    echo "gnome-keyring unlocked in dbus-run-session (keyring.sh); @napi-rs/keyring $out checked"
  else
    echo "gnome-keyring unlocked in dbus-run-session (keyring.sh); @napi-rs/keyring not installed yet (npm ci), not checked"
  fi
}

start_dask() {
  local v
  # Debian's python, not whichever python3 (pyenv, venv) comes first on PATH.
  v=$(/usr/bin/python3 -c 'import distributed; print(distributed.__version__)' 2>&1) ||
    fail "/usr/bin/python3 cannot import distributed: $v"
  echo "python3-distributed $v (/usr/bin/python3)"
}

# --- podman ----------------------------------------------------------------------------------

# Podman's own config is where a host's container settings belong: crun fails here ("cgroups in
# hybrid mode"), so runc; and the default rlimits exceed this machine's hard limits.
start_podman() {
  local u out build
  write_if_changed /etc/containers/containers.conf 644 <<'EOF' || true
# Written by orrery test/services/start.sh: runc (crun fails on this host's hybrid cgroups) and
# rlimits within this host's hard limits.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1024:1024"]

[engine]
runtime = "runc"
EOF
  # The test image, without a registry: a static busybox in an empty image.
  build='d=$(mktemp -d) && cp /bin/busybox "$d/" && printf "FROM scratch\nCOPY busybox /bin/busybox\n" >"$d/Containerfile" && podman build -q -t localhost/orrery-busybox "$d" >/dev/null; rc=$?; rm -rf "$d"; exit $rc'
  podman image exists localhost/orrery-busybox || bash -c "$build" || fail "podman build failed for root"
  out=$(podman run --rm --network host localhost/orrery-busybox /bin/busybox echo ok 2>&1) ||
    fail "podman run as root failed: $out"
  # Rootless, as the ssh test user (its subuid/subgid ranges come from useradd); rootless
  # networking needs /dev/net/tun, which this host does not give, so runs use --network host.
  for u in orrery-test; do
    ssh_as "$u" "podman image exists localhost/orrery-busybox 2>/dev/null || ( $build )" ||
      fail "podman build failed for $u over ssh"
    out=$(ssh_as "$u" 'podman run --rm --network host localhost/orrery-busybox /bin/busybox echo ok' 2>&1) ||
      fail "rootless podman run as $u over ssh failed: $out"
  done
  echo "$(podman --version), runc; localhost/orrery-busybox for root and orrery-test (rootless, over ssh)"
}

# A private registry on loopback (Debian's docker-registry), so that pulls are tested without
# the internet: localhost/orrery-busybox is pushed there as 127.0.0.1:5055/orrery-busybox.
REGISTRY=127.0.0.1:5055
start_registry() {
  local dir=$ROOT/registry pid
  install -d -m 700 "$dir" "$dir/data"
  write_if_changed "$dir/config.yml" 600 <<EOF || true
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $REGISTRY
EOF
  # Plain HTTP on loopback: podman must be told it is not TLS.
  write_if_changed /etc/containers/registries.conf.d/orrery-test.conf 644 <<EOF || true
# Written by orrery test/services/start.sh: the test registry on loopback speaks plain HTTP.
[[registry]]
location = "$REGISTRY"
insecure = true
EOF
  if ! pid=$(pid_running "$dir/registry.pid" "$dir/config.yml"); then
    setsid /usr/bin/docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
    echo $! >"$dir/registry.pid"
    wait_for 10 curl -fsS "http://$REGISTRY/v2/" || fail "docker-registry did not answer: $(tail -n 3 "$dir/registry.log" | tr '\n' ' ')"
    pid=$(cat "$dir/registry.pid")
  fi
  podman push -q localhost/orrery-busybox "$REGISTRY/orrery-busybox:latest" >/dev/null ||
    fail "podman push to $REGISTRY failed"
  # orrery-pull: busybox plus an 8 MiB layer that exists only in the registry, so a test's
  # first pull really downloads something. Pushed once, then removed from the local store.
  if ! curl -fsS "http://$REGISTRY/v2/orrery-pull/tags/list" 2>/dev/null | grep -q latest; then
    local d
    d=$(mktemp -d)
    head -c 8388608 /dev/urandom >"$d/payload"
    printf 'FROM localhost/orrery-busybox\nCOPY payload /payload\n' >"$d/Containerfile"
    podman build -q -t "$REGISTRY/orrery-pull:latest" "$d" >/dev/null || fail "podman build of orrery-pull failed"
    rm -rf "$d"
    podman push -q "$REGISTRY/orrery-pull:latest" >/dev/null || fail "podman push of orrery-pull failed"
    podman rmi -f "$REGISTRY/orrery-pull:latest" >/dev/null
  fi
  echo "http://$REGISTRY pid $pid; $REGISTRY/orrery-busybox and orrery-pull (+8 MiB) pushed"
}

# --- run each service, one line each ---------------------------------------------------------

# --- slurm-pair: two Slurm nodes on one machine ---------------------------------------------
# Debian's slurmd is built with --enable-multiple-slurmd (scontrol show config: MULTIPLE_SLURMD
# = Yes): several slurmd on one host, each `slurmd -N <name>` on its own port. A cluster of its
# own (slurmctld port 7817, own state and slurm.conf), so the one-node cluster above is untouched;
# SLURM_CONF=$PAIR_CONF selects it (the slurm backend's `slurmConf`).

PAIR_CONF=$ROOT/slurm-pair/slurm.conf
pair_nodes() { SLURM_CONF=$PAIR_CONF sinfo -h -p pair -t "$1" -o %D 2>/dev/null; }
pair_usable() { [[ $(pair_nodes idle,mix,alloc) == 2 ]]; }

start_slurm_pair() {
  local dir=$ROOT/slurm-pair changed=0 n out
  install -d -m 755 "$dir" "$dir/state" "$dir/spool-pair1" "$dir/spool-pair2"
  write_if_changed "$PAIR_CONF" 644 <<PAIREOF && changed=1
# Orrery's two-node test cluster on one machine (test/services/start.sh, step slurm-pair).
ClusterName=orrery-pair
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=7817
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
InactiveLimit=0
NodeName=pair1 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=7818 CPUs=1 RealMemory=1000 State=UNKNOWN
NodeName=pair2 NodeHostname=$HOST NodeAddr=127.0.0.1 Port=7819 CPUs=1 RealMemory=1000 State=UNKNOWN
PartitionName=pair Nodes=pair1,pair2 Default=YES MaxTime=INFINITE State=UP
PAIREOF
  if ((changed)); then
    for n in pair1 pair2; do stop_pid "$dir/slurmd-$n.pid" slurmd; done
    stop_pid "$dir/slurmctld.pid" slurmctld
  fi
  if ! pid_running "$dir/slurmctld.pid" slurmctld >/dev/null; then
    /usr/sbin/slurmctld -f "$PAIR_CONF" ||
      fail "slurmctld (pair) did not start: $(tail -n 3 "$dir/slurmctld.log" | tr '\n' ' ')"
  fi
  wait_for 20 sh -c "SLURM_CONF='$PAIR_CONF' scontrol ping | grep -q UP" ||
    fail "slurmctld (pair) is not answering: $(tail -n 3 "$dir/slurmctld.log" | tr '\n' ' ')"
  for n in pair1 pair2; do
    if ! pid_running "$dir/slurmd-$n.pid" slurmd >/dev/null; then
      /usr/sbin/slurmd -f "$PAIR_CONF" -N "$n" ||
        fail "slurmd $n did not start: $(tail -n 3 "$dir/slurmd-$n.log" | tr '\n' ' ')"
    fi
  done
  if ! wait_for 30 pair_usable; then
    SLURM_CONF=$PAIR_CONF scontrol update NodeName=pair1,pair2 State=RESUME >/dev/null 2>&1 || true
    wait_for 15 pair_usable || fail "nodes pair1, pair2 are not usable; see $dir/slurmd-*.log"
  fi
  if [[ $(pair_nodes idle) != 2 ]]; then
    echo "nodes pair1, pair2 (1 CPU each), partition pair; jobs running, srun check skipped"
    return 0
  fi
  out=$(SLURM_CONF=$PAIR_CONF runuser -u orrery-test -- timeout 60 srun --quiet -N2 --ntasks-per-node=1 \
    sh -c 'echo $SLURMD_NODENAME' 2>&1 </dev/null | sort | tr '\n' ' ') ||
    fail "srun -N2 on the pair cluster failed: $out"
  [[ $out == "pair1 pair2 " ]] || fail "srun -N2 on the pair cluster printed '$out'"
  echo "nodes pair1, pair2 on $HOST (SLURM_CONF=$PAIR_CONF), partition pair; srun -N2 ran on both"
}

failed=0
declare -A status
step() { # step <name> <function> [<needs>]: runs the function with -e, prints ok/FAILED
  local name=$1 fn=$2 need=${3-} err out rc t0=${EPOCHREALTIME/./}
  if [[ -n $need && ${status[$need]-} != ok ]]; then
    printf 'FAILED  %-8s needs %s, which failed\n' "$name" "$need"
    status[$name]=failed
    failed=1
    return
  fi
  err=$(mktemp)
  out=$(set -euo pipefail; "$fn" 2>"$err")
  rc=$?
  if ((rc == 0)); then
    printf 'ok      %-8s %s (%d ms)\n' "$name" "$out" "$(((${EPOCHREALTIME/./} - t0) / 1000))"
    status[$name]=ok
  else
    printf 'FAILED  %-8s %s\n' "$name" "$(tail -n 3 "$err" | tr '\n' ' ')"
    status[$name]=failed
    failed=1
  fi
  rm -f "$err"
}

step users start_users
step sshd start_sshd users
step munge start_munge
step slurm start_slurm munge
step slurm-pair start_slurm_pair slurm
step keyring start_keyring
step dask start_dask
step podman start_podman sshd
step registry start_registry podman
exit "$failed"
