/**
 * Preparing a host to run the agent over an SSH connection: the remote Node must be new enough,
 * and the agent bundle must be in `~/.orrery/agents/<hash>/`, uploaded by SFTP only when absent
 * and atomically (a partly uploaded bundle never has the final name), so concurrent uploads from
 * several backends or heads sharing a home directory are safe. A bundle already there runs only
 * if its files match the hash and no one else can write them (bundle-check.ts); otherwise it is
 * replaced. Uploaded folders are 0700 and files 0600.
 */
import { randomBytes } from 'node:crypto';
import type { SFTPWrapper, Stats } from 'ssh2';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { AGENT_ENTRY_FILE, type AgentBundle } from './agent-bundle.ts';
import { bundleMismatch } from './bundle-check.ts';
import type { SshConnection } from './connection.ts';
import { describeAddress } from './ssh-config.ts';
import { shellCommand, shellPath } from '../shell-quote.ts';

/** The oldest Node major the agent runs on (package.json engines). */
export const MIN_NODE_MAJOR = 20;

/** Checks `<nodePath> --version` on the host; resolves with the version (`v20.11.1`). */
export async function checkRemoteNode(conn: SshConnection, nodePath: string, backend: string): Promise<string> {
  const where = `${conn.target.user}@${describeAddress(conn.target)}`;
  const out = await conn.run(`${shellPath(nodePath)} --version`);
  const version = out.stdout.trim();
  const m = /^v(\d+)\.\d+\.\d+/.exec(version);
  const hint =
    `Set node: 'auto' (the default) or 'bundled' in the backend config so that Orrery provisions its own Node there, ` +
    `install Node >= ${MIN_NODE_MAJOR} there, or set node to its absolute path ` +
    `(find it with \`ssh ${where.replace(/:(\d+)$/, ' -p $1')} 'bash -lc "command -v node"'\`: non-interactive SSH sessions often lack the PATH that nvm or a login shell sets).`;
  if (out.code !== 0 || !m) {
    const said = (out.stderr.trim() || version || `exit code ${out.code}`).split('\n')[0];
    throw new BackendError(backend, `node was not found on ${where} as \`${nodePath}\` (${said}). ${hint}`, false);
  }
  if (Number(m[1]) < MIN_NODE_MAJOR) {
    throw new BackendError(
      backend,
      `node on ${where} (\`${nodePath}\`) is ${version}, but the Orrery agent needs >= ${MIN_NODE_MAJOR}. ${hint}`,
      false,
    );
  }
  return version;
}

/** Where a bundle lives on a host, and whether this call uploaded it. */
export interface EnsuredBundle {
  /** Absolute remote directory `<home>/.orrery/agents/<hash>`. */
  readonly dir: string;
  /** Absolute path of the agent entry in it. */
  readonly entry: string;
  readonly uploaded: boolean;
  /** Set when a bundle folder was there but could not be trusted: why, for the log (it was replaced). */
  readonly replaced?: string;
}

/**
 * Makes sure the bundle is on the host: one already there is checked (content and modes, with
 * `nodePath`) and replaced if it fails; an absent one is uploaded.
 */
export async function ensureBundle(
  conn: SshConnection,
  bundle: AgentBundle,
  backend: string,
  nodePath: string,
): Promise<EnsuredBundle> {
  const { home, present } = await conn.sftp(async (sftp) => {
    const s = sftpPromises(sftp);
    const home = await s.realpath('.');
    return { home, present: await s.exists(`${home}/.orrery/agents/${bundle.hash}`) };
  });
  const dir = `${home}/.orrery/agents/${bundle.hash}`;
  const where = `${conn.target.user}@${describeAddress(conn.target)}:${dir}`;
  let replaced: string | undefined;
  if (present) {
    const why = await bundleMismatch(conn, nodePath, dir, bundle);
    if (!why) return { dir, entry: `${dir}/${AGENT_ENTRY_FILE}`, uploaded: false };
    replaced = `the agent bundle at ${where} does not match its hash (${why}); it was replaced and not run`;
    await discard(conn, dir, backend, where);
  }
  return { ...(await upload(conn, bundle, backend, home)), ...(replaced ? { replaced } : {}) };
}

/** Moves an untrusted bundle folder out of the way (atomically, so nothing can run it meanwhile) and removes it. */
async function discard(conn: SshConnection, dir: string, backend: string, where: string): Promise<void> {
  const aside = `${dir.slice(0, dir.lastIndexOf('/'))}/.bad-${randomBytes(6).toString('hex')}`;
  try {
    await conn.sftp((sftp) => sftpPromises(sftp).rename(dir, aside));
  } catch (err) {
    // Another head may have replaced it already.
    if (await conn.sftp((sftp) => sftpPromises(sftp).exists(dir))) {
      throw new BackendError(
        backend,
        `the agent bundle at ${where} cannot be trusted and cannot be moved away (${(err as Error).message}); remove it by hand`,
        false,
      );
    }
    return;
  }
  await conn.run(shellCommand(['rm', '-rf', '--', aside]));
}

/** Uploads the bundle under a temporary name and renames it into place. */
async function upload(conn: SshConnection, bundle: AgentBundle, backend: string, home: string): Promise<EnsuredBundle> {
  return conn.sftp(async (sftp) => {
    const s = sftpPromises(sftp);
    const agents = `${home}/.orrery/agents`;
    const dir = `${agents}/${bundle.hash}`;
    const entry = `${dir}/${AGENT_ENTRY_FILE}`;
    if (await s.exists(dir)) return { dir, entry, uploaded: false };
    await s.mkdirp(agents);
    const tmp = `${agents}/.tmp-${bundle.hash}-${randomBytes(4).toString('hex')}`;
    try {
      await writeTree(s, tmp, bundle.files);
      await s.rename(tmp, dir);
      return { dir, entry, uploaded: true };
    } catch (err) {
      // Another uploader may have won the rename: the directory then holds the same bytes.
      const won = await s.exists(dir);
      await removeTree(s, tmp, bundle.files);
      if (won) return { dir, entry, uploaded: false };
      throw new BackendError(
        backend,
        `cannot upload the agent bundle to ${conn.target.user}@${describeAddress(conn.target)}:${dir}: ${(err as Error).message}; check free space and permissions of ~/.orrery on the host`,
        true,
      );
    }
  });
}

/** Removes what writeTree left of `files` under `root` (it may have stopped part way). */
async function removeTree(s: ReturnType<typeof sftpPromises>, root: string, files: ReadonlyMap<string, Buffer>) {
  for (const path of files.keys()) await s.unlink(`${root}/${path}`).catch(() => {});
  // Deepest first, so that each folder is empty when its turn comes.
  for (const d of [...foldersOf(root, files)].reverse()) await s.rmdir(d).catch(() => {});
}

/** Writes `files` (relative paths and their bytes) under the new folder `root`. */
export async function writeTree(
  s: ReturnType<typeof sftpPromises>,
  root: string,
  files: ReadonlyMap<string, Buffer>,
): Promise<void> {
  for (const d of foldersOf(root, files)) await s.mkdir(d);
  for (const [path, data] of files) await s.writeFile(`${root}/${path}`, data);
}

/** The folders `files` need under `root`, `root` first, each before its subfolders. */
function foldersOf(root: string, files: ReadonlyMap<string, Buffer>): Set<string> {
  const out = new Set<string>();
  for (const path of files.keys()) {
    const parts = path.split('/');
    for (let i = 0; i < parts.length; i++) out.add([root, ...parts.slice(0, i)].join('/'));
  }
  return out;
}

/** The few SFTP calls we use, as promises. */
export function sftpPromises(sftp: SFTPWrapper) {
  const call = <T>(f: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> =>
    new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));
  const api = {
    realpath: (p: string) => call<string>((cb) => sftp.realpath(p, cb)),
    stat: (p: string) => call<Stats>((cb) => sftp.stat(p, cb)),
    exists: (p: string) =>
      api.stat(p).then(
        () => true,
        () => false,
      ),
    mkdir: (p: string) => call<void>((cb) => sftp.mkdir(p, { mode: 0o700 }, cb)),
    /** mkdir -p: an existing directory is fine (OpenSSH answers a plain "Failure" for it). */
    mkdirp: async (p: string) => {
      const parts = p.split('/');
      for (let i = 2; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!(await api.exists(d)))
          await api.mkdir(d).catch(async (err: Error) => {
            if (!(await api.exists(d))) throw err;
          });
      }
    },
    writeFile: (p: string, data: Buffer) => call<void>((cb) => sftp.writeFile(p, data, { mode: 0o600 }, cb)),
    /** Fails when `to` exists (OpenSSH's plain SFTP rename never replaces): the loser of a race sees the winner's. */
    rename: (from: string, to: string) => call<void>((cb) => sftp.rename(from, to, cb)),
    /** Uploads a local file with parallel requests (much faster than writeFile for large files). */
    fastPut: (local: string, remote: string) => call<void>((cb) => sftp.fastPut(local, remote, { mode: 0o600 }, cb)),
    unlink: (p: string) => call<void>((cb) => sftp.unlink(p, cb)),
    rmdir: (p: string) => call<void>((cb) => sftp.rmdir(p, cb)),
  };
  return api;
}
