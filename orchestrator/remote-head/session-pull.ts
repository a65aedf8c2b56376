/**
 * `orrery sessions pull <name>`: a session of a head on another machine, copied to this one.
 * The head's host exports it (`orrery sessions export`, the consistent snapshot of the database
 * plus its result files, safe while the head records it) into its private run folder; the
 * archive comes back by SFTP into a private folder here, is unpacked there and moved into
 * `~/.orrery/sessions`, and the archive on the host is removed. A session of that name already
 * here is never overwritten.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, ensurePrivateDir } from '../core/runtime-dir.ts';
import { OrreryError } from '../core/errors.ts';
import { defaultSessionsDir, sessionPaths } from '../sessions/session-paths.ts';
import { shellCommand } from '../../backends/transport/shell-quote.ts';
import type { RemoteHeadHost } from './remote-head.ts';

/** The session to pull already exists here. */
export class SessionExistsHereError extends OrreryError {
  constructor(
    readonly session: string,
    readonly path: string,
  ) {
    super(
      `a session named ${session} already exists here (${path}); delete it (orrery sessions delete ${session}) or export it elsewhere first`,
    );
  }
}

/** The host could not export the session (unknown name, a broken file): its own message. */
export class RemoteSessionExportError extends OrreryError {
  constructor(
    readonly session: string,
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where} cannot export session ${session}: ${reason}`);
  }
}

/** What a pull copied. */
export interface PulledSession {
  readonly name: string;
  /** The local database. */
  readonly db: string;
  /** Bytes of the archive that travelled. */
  readonly bytes: number;
}

/** Copies session `name` from the head's host into this machine's sessions folder. */
export async function pullSession(host: RemoteHeadHost, name: string): Promise<PulledSession> {
  const sessionsDir = defaultSessionsDir();
  const local = sessionPaths(sessionsDir, name);
  if (existsSync(local.db)) throw new SessionExistsHereError(name, local.db);
  const remoteFile = `${host.orreryDir}/run/pull-${randomBytes(6).toString('hex')}.tar.gz`;
  const out = await host.runOrrery(['sessions', 'export', name, remoteFile], 600_000);
  if (out.code !== 0) {
    const said = (out.stderr.trim() || out.stdout.trim() || `exit code ${out.code}`).split('\n')[0]!;
    throw new RemoteSessionExportError(name, host.where, said.replace(/^orrery: /, ''));
  }
  const tmp = mkdtempSync(join(ensurePrivateDir(dataRoot()), 'pull-'));
  try {
    const archive = join(tmp, 'session.tar.gz');
    await host.conn.sftp(
      (sftp) =>
        new Promise<void>((resolve, reject) =>
          sftp.fastGet(remoteFile, archive, (err) => (err ? reject(err) : resolve())),
        ),
    );
    const { size } = statSync(archive);
    execFileSync('tar', ['-xzf', archive, '-C', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    const unpacked = sessionPaths(join(tmp, name), name);
    ensurePrivateDir(sessionsDir);
    if (existsSync(local.db)) throw new SessionExistsHereError(name, local.db);
    if (existsSync(unpacked.filesDir)) renameSync(unpacked.filesDir, local.filesDir);
    renameSync(unpacked.db, local.db);
    return { name, db: local.db, bytes: size };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await host.conn.run(shellCommand(['rm', '-f', '--', remoteFile])).catch(() => undefined);
  }
}
