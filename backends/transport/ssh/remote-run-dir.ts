/**
 * The private run folder on a host reached over SSH, `~/.orrery/run`: agents keep their process
 * folders (spills, command working folders) there, and agents that outlive their head their
 * sockets, secrets, logs and specs. It is made with umask 077; an existing one (and `~/.orrery`)
 * is repaired to 0700, and one that is a symbolic link or belongs to another user is refused.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { SshConnection } from './connection.ts';
import { describeAddress } from './ssh-config.ts';

/** Exit code of the script below for a folder it will not use (it prints the folder). */
const UNSAFE = 3;

const SCRIPT = `umask 077
for d in "$HOME/.orrery" "$HOME/.orrery/run"; do
  if [ -L "$d" ] || { [ -e "$d" ] && [ ! -O "$d" ]; }; then printf '%s\\n' "$d"; exit ${UNSAFE}; fi
  [ -d "$d" ] || mkdir "$d" || exit 4
  chmod 700 "$d" || exit 4
done
cd "$HOME/.orrery/run" && pwd -P`;

/** Makes or repairs `~/.orrery/run` (0700) on the host; resolves with its absolute path. */
export async function ensureRemoteRunDir(conn: SshConnection, backend: string): Promise<string> {
  const out = await conn.run(SCRIPT);
  const where = `${conn.target.user}@${describeAddress(conn.target)}`;
  if (out.code === UNSAFE) {
    const dir = out.stdout.trim();
    throw new BackendError(
      backend,
      `${where}:${dir} is a symbolic link or belongs to another user, so Orrery will not keep its sockets and files there; remove it (Orrery makes it again, mode 0700)`,
      false,
    );
  }
  const path = out.stdout.trim();
  if (out.code !== 0 || !path.startsWith('/')) {
    throw new BackendError(
      backend,
      `cannot make ~/.orrery/run on ${where} (${(out.stderr.trim() || `exit code ${out.code}`).split('\n')[0]}); check the permissions of the home folder there`,
      true,
    );
  }
  return path;
}

/** Writes a new private file on the host by SFTP (created exclusively, mode 0600): how a spec reaches an agent sbatch starts. */
export async function writeRemotePrivateFile(
  conn: SshConnection,
  path: string,
  data: string,
  backend: string,
): Promise<void> {
  await conn.sftp(
    (sftp) =>
      new Promise<void>((resolve, reject) =>
        sftp.writeFile(path, data, { mode: 0o600, flag: 'wx' }, (err) =>
          err
            ? reject(
                new BackendError(
                  backend,
                  `cannot write ${path} on ${conn.target.user}@${describeAddress(conn.target)}: ${err.message}`,
                  true,
                ),
              )
            : resolve(),
        ),
      ),
  );
}

/**
 * A short tag naming a service head's owner (this machine and the head's home, whose `run`
 * folder is `runDir`): the names of its durable agents and allocations on a shared cluster
 * account carry it, so a restarted head finds its own and never another head's that uses a
 * backend of the same name.
 */
export function durableOwner(runDir: string): string {
  return createHash('sha256').update(`${hostname()}\0${runDir}`).digest('hex').slice(0, 8);
}
