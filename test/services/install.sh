#!/usr/bin/env bash
# Installs, from Debian's packages, the real services the integration tests talk to: OpenSSH
# server, Slurm with munge, gnome-keyring on a D-Bus session bus, Dask (the benchmark peer), and
# Chromium (the dashboard's e2e tests), Podman (container command tasks).
# Idempotent: packages already installed are skipped, so a re-run takes well under a second.
# Runs as root on Debian 12 (bookworm); starts nothing (see start.sh).
set -euo pipefail

packages=(
  gcc              # builds native/shm-map (the shared-memory object store's mmap addon) where npm run build found no compiler
  libc6-dev        # its C headers
  openssh-server   # sshd on loopback for the ssh backend
  openssh-client   # ssh, ssh-keygen, ssh-keyscan
  slurm-wlm        # slurmctld, slurmd, srun, sbatch, squeue, scancel
  munge            # Slurm's authentication daemon
  dbus             # dbus-run-session, the session bus for the keyring
  gnome-keyring    # a Secret Service for @napi-rs/keyring
  python3-distributed  # Dask, the side-by-side benchmark peer
  python3-numpy    # the Dask peer imports numpy (Debian's python3-distributed does not pull it in)
  python3-venv     # runtimeEnv.pip builds environments with python3 -m venv + pip (test/integration/python-env*.test.ts)
  chromium         # the dashboard's e2e tests and benchmark (playwright-core drives /usr/bin/chromium)
  podman           # container command tasks (runtimeEnv.container), rootful and rootless
  runc             # podman's OCI runtime here (crun fails on this host's hybrid cgroups)
  uidmap           # newuidmap/newgidmap: rootless podman (the ssh test users) maps subordinate ids with them
  busybox-static   # the one binary of the test image localhost/orrery-busybox (FROM scratch)
  docker-registry  # a private registry on loopback, so container image pulls are tested offline
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: must run as root (it installs Debian packages)" >&2
  exit 1
fi

# Two installs at once (CI and a test's setup) would fight over dpkg's lock: the second waits.
mkdir -p /var/lib/orrery-test
if [[ -z ${ORRERY_INSTALL_LOCKED-} ]]; then
  exec env ORRERY_INSTALL_LOCKED=1 flock -o /var/lib/orrery-test/install.lock bash "${BASH_SOURCE[0]}" "$@"
fi
unset ORRERY_INSTALL_LOCKED

# electron-builder's own validator checks electron-builder.json (test/unit/electron-builder-config.test.ts).
# It is no project dependency (279 packages, 93 MB); validating needs none of its install scripts.
builder=/var/lib/orrery-test/electron-builder
if [[ ! -f $builder/node_modules/app-builder-lib/package.json ]]; then
  echo "services install: electron-builder 26.17.0 into $builder"
  npm install --prefix "$builder" electron-builder@26.17.0 --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi

missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "services install: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "services install: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Package scripts must not start the distribution's own daemons (sshd on port 22, munge, slurm):
# start.sh runs private instances with their own configuration. policy-rc.d exit 101 forbids it.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [[ $made_policy -eq 1 ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "services install: done"
