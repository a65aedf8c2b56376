/**
 * The Node a host runs the agent with (node-dist.ts's `node` setting): the host's own, or one
 * Orrery provisions into `~/.orrery/runtime/<version>-<os>-<arch>/`. Provisioning uploads the
 * verified tarball (node-dist-fetch.ts) by SFTP into a temporary folder with a random name under
 * `~/.orrery/runtime`, unpacks it there (the host needs only `tar` and `gzip`), checks that its
 * `bin/node` runs and reports the expected version, and renames the folder into place. The rename
 * never replaces an existing folder, so of several heads or backends provisioning one home at
 * once (a cluster's shared home) exactly one installs and the others use its runtime; within
 * this process, backends provisioning the same host wait for one another. A runtime already
 * there is used as it is when its `bin/node --version` answers the version: nothing is uploaded.
 */
import { randomBytes } from 'node:crypto';
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { SshConnection } from './connection.ts';
import { localNodeTarball, type LocalTarball } from './node-dist-fetch.ts';
import {
  defaultNodeVersion,
  distPlatformOf,
  nodeChoiceOf,
  parseTarballName,
  platformName,
  runtimeName,
  type DistPlatform,
  type NodeDist,
  type NodeRuntimeConfig,
} from './node-dist.ts';
import { checkRemoteNode, MIN_NODE_MAJOR, sftpPromises } from './remote-agent.ts';
import { describeAddress } from './ssh-config.ts';
import { shellCommand, shellPath, shellQuote } from '../shell-quote.ts';

/** The Node the agent will run with on a host. */
export interface RemoteNode {
  /** What to run: `node` (the host's PATH), a configured path, or the provisioned runtime's absolute `bin/node`. */
  readonly path: string;
  /** `v20.20.2`. */
  readonly version: string;
  /** Set when the runtime is Orrery's own. */
  readonly runtime?: ProvisionedRuntime;
}

/** A runtime in `~/.orrery/runtime/`, and what this call did to put it there. */
export interface ProvisionedRuntime {
  /** Absolute folder on the host. */
  readonly dir: string;
  /** `20.20.2-linux-x64`. */
  readonly name: string;
  /** True when this call uploaded and unpacked it; false when it was there (or another provisioner won). */
  readonly uploaded: boolean;
  /** Why the host's own Node was not used (`'auto'`), for the log. */
  readonly reason: string;
  /** Set when uploaded: the tarball and how long each step took. */
  readonly timings?: { readonly tarball: LocalTarball; readonly uploadS: number; readonly unpackS: number };
}

/** Exit codes of the unpack script. */
const UNPACK_FAILED = 11;
const NODE_FAILED = 12;

/** Provisionings in progress in this process, per host and runtime folder. */
const inFlight = new Map<string, Promise<RemoteNode>>();

/**
 * Finds or provisions the Node for `config` on the host behind `conn`. `log` receives a line for
 * each download, upload and fallback. Throws one BackendError naming the host and what to do.
 */
export async function resolveRemoteNode(
  conn: SshConnection,
  config: NodeRuntimeConfig,
  backend: string,
  log: (line: string) => void,
): Promise<RemoteNode> {
  const choice = nodeChoiceOf(config);
  if (choice.mode === 'fixed') return { path: choice.path, version: await checkRemoteNode(conn, choice.path, backend) };
  let reason = "node: 'bundled'";
  if (choice.mode === 'auto') {
    const out = await conn.run('node --version');
    const version = out.stdout.trim();
    const major = /^v(\d+)\.\d+\.\d+$/.exec(version)?.[1];
    if (out.code === 0 && major && Number(major) >= MIN_NODE_MAJOR) return { path: 'node', version };
    reason =
      out.code === 0 && major
        ? `the host's node is ${version}, older than ${MIN_NODE_MAJOR}`
        : `the host has no node on the PATH of a non-interactive SSH session`;
  }
  return provision(conn, choice.dist, backend, reason, log);
}

function whereOf(conn: SshConnection): string {
  return `${conn.target.user}@${describeAddress(conn.target)}`;
}

async function provision(
  conn: SshConnection,
  dist: NodeDist | undefined,
  backend: string,
  reason: string,
  log: (line: string) => void,
): Promise<RemoteNode> {
  const where = whereOf(conn);
  const platform = await hostPlatform(conn, dist, backend);
  const version =
    dist && 'file' in dist ? parseTarballName(dist.file.split('/').pop()!)!.version : defaultNodeVersion();
  const name = runtimeName(version, platform);
  const home = await conn.sftp((sftp) => sftpPromises(sftp).realpath('.'));
  const dir = `${home}/.orrery/runtime/${name}`;
  const key = `${where}\0${dir}`;
  const running = inFlight.get(key);
  if (running) {
    // Another backend of this process is provisioning this host: its runtime is ours, uploaded by it.
    const node = await running;
    return node.runtime ? { ...node, runtime: { dir: node.runtime.dir, name, uploaded: false, reason } } : node;
  }
  const ctx: Ctx = { conn, backend, where, dir, name, version, platform, dist, reason, log };
  const p = ensureRuntime(ctx).finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

/** Everything one provisioning needs. */
interface Ctx {
  readonly conn: SshConnection;
  readonly backend: string;
  readonly where: string;
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly platform: DistPlatform;
  readonly dist: NodeDist | undefined;
  readonly reason: string;
  readonly log: (line: string) => void;
}

/** `uname -sm` as a Node platform; a `nodeDist.file` names its own (it must fit the host when Node knows the host). */
async function hostPlatform(conn: SshConnection, dist: NodeDist | undefined, backend: string): Promise<DistPlatform> {
  const out = await conn.run('uname -sm');
  const uname = out.stdout.trim() || `uname failed: ${out.stderr.trim() || `exit code ${out.code}`}`;
  const host = distPlatformOf(uname);
  if (dist && 'file' in dist) {
    const file = parseTarballName(dist.file.split('/').pop()!)!.platform;
    if (host && (host.os !== file.os || host.arch !== file.arch.replace(/-musl$/, '')))
      throw new BackendError(
        backend,
        `nodeDist.file ${dist.file} is for ${platformName(file)}, but ${whereOf(conn)} is ${platformName(host)} (uname -sm: ${uname}); use the tarball for ${platformName(host)}`,
        false,
      );
    return file;
  }
  if (!host)
    throw new BackendError(
      backend,
      `${whereOf(conn)} is \`${uname}\` (uname -sm), for which nodejs.org publishes no Node build, so Orrery cannot provision one; set node to the absolute path of a Node >= ${MIN_NODE_MAJOR} on that host, or nodeDist: { file } to a tarball built for it`,
      false,
    );
  return host;
}

/** The runtime folder if it is there and works, else a fresh one. */
async function ensureRuntime(ctx: Ctx): Promise<RemoteNode> {
  const node = `${ctx.dir}/bin/node`;
  const present = await runtimeWorks(ctx);
  if (present === true) return { path: node, version: `v${ctx.version}`, runtime: runtimeOf(ctx, false) };
  if (present !== undefined) {
    ctx.log(`the Node runtime at ${ctx.where}:${ctx.dir} does not work (${present}); it is replaced`);
    await moveAside(ctx);
  }
  const tarball = await localNodeTarball({
    backend: ctx.backend,
    where: ctx.where,
    version: ctx.version,
    platform: ctx.platform,
    dist: ctx.dist,
    log: ctx.log,
  });
  const t0 = Date.now();
  const tmp = await upload(ctx, tarball);
  const uploadS = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  await unpack(ctx, tmp, tarball);
  const unpackS = (Date.now() - t1) / 1000;
  const won = await ctx.conn.sftp(async (sftp) => {
    const s = sftpPromises(sftp);
    try {
      await s.rename(tmp, ctx.dir);
      return true;
    } catch (err) {
      if (await s.exists(ctx.dir)) return false;
      throw failed(
        ctx,
        `cannot rename ${tmp} to ${ctx.dir}: ${(err as Error).message}`,
        'check the permissions of ~/.orrery/runtime there',
      );
    }
  });
  if (!won) {
    // Another head or backend installed the same runtime meanwhile: use theirs.
    await removeRemote(ctx, tmp);
    ctx.log(`Node ${ctx.name} was installed on ${ctx.where} by another provisioner meanwhile; using it`);
    return { path: node, version: `v${ctx.version}`, runtime: runtimeOf(ctx, false) };
  }
  return {
    path: node,
    version: `v${ctx.version}`,
    runtime: { ...runtimeOf(ctx, true), timings: { tarball, uploadS, unpackS } },
  };
}

function runtimeOf(ctx: Ctx, uploaded: boolean): ProvisionedRuntime {
  return { dir: ctx.dir, name: ctx.name, uploaded, reason: ctx.reason };
}

/** True when `bin/node --version` there prints the version; undefined when there is no folder; else what is wrong. */
async function runtimeWorks(ctx: Ctx): Promise<true | string | undefined> {
  const out = await ctx.conn.run(
    // touch: the folder's time is its last use, which `orrery backends clean` goes by.
    `if [ -d ${shellQuote(ctx.dir)} ]; then touch ${shellQuote(ctx.dir)}; ${shellQuote(`${ctx.dir}/bin/node`)} --version; else echo absent; fi`,
  );
  const said = out.stdout.trim();
  if (said === 'absent') return undefined;
  if (out.code === 0 && said === `v${ctx.version}`) return true;
  return (out.stderr.trim() || said || `exit code ${out.code}`).split('\n')[0]!;
}

/** Renames a broken runtime out of the way (so nothing runs it meanwhile) and removes it. */
async function moveAside(ctx: Ctx): Promise<void> {
  const aside = `${ctx.dir.slice(0, ctx.dir.lastIndexOf('/'))}/.bad-${randomBytes(6).toString('hex')}`;
  await ctx.conn.sftp((sftp) => sftpPromises(sftp).rename(ctx.dir, aside)).catch(() => undefined);
  await removeRemote(ctx, aside);
}

async function removeRemote(ctx: Ctx, path: string): Promise<void> {
  await ctx.conn.run(shellCommand(['rm', '-rf', '--', path]), 120_000).catch(() => undefined);
}

/** An error about this host: what failed, and what to do. Provisioning failures are worth retrying later. */
function failed(ctx: Ctx, what: string, todo: string): BackendError {
  return new BackendError(ctx.backend, `cannot provision Node ${ctx.name} on ${ctx.where}: ${what}; ${todo}`, true);
}

/** Uploads the tarball into a fresh private folder `~/.orrery/runtime/.tmp-<name>-<random>`; returns the folder. */
async function upload(ctx: Ctx, tarball: LocalTarball): Promise<string> {
  const parent = ctx.dir.slice(0, ctx.dir.lastIndexOf('/'));
  const tmp = `${parent}/.tmp-${ctx.name}-${randomBytes(6).toString('hex')}`;
  try {
    await ctx.conn.sftp(async (sftp) => {
      const s = sftpPromises(sftp);
      await s.mkdirp(parent);
      await s.mkdir(tmp);
      await s.fastPut(tarball.path, `${tmp}/${tarball.name}`);
    });
  } catch (err) {
    await removeRemote(ctx, tmp);
    throw failed(
      ctx,
      `uploading ${tarball.name} (${(tarball.bytes / 1e6).toFixed(1)} MB) to ${tmp} failed (${(err as Error).message})`,
      'the disk there may be full (check `df -h ~` and your quota) or ~/.orrery may not be writable; nothing was left behind',
    );
  }
  return tmp;
}

/** Unpacks the tarball in `tmp`, deletes it, and checks the unpacked `bin/node`. */
async function unpack(ctx: Ctx, tmp: string, tarball: LocalTarball): Promise<void> {
  const z = tarball.compression === 'gz' ? 'z' : 'J';
  const script = [
    'umask 077',
    `cd ${shellQuote(tmp)} || exit ${UNPACK_FAILED}`,
    `tar -x${z}f ${shellQuote(tarball.name)} --strip-components=1 || exit ${UNPACK_FAILED}`,
    `rm -f ${shellQuote(tarball.name)}`,
    `./bin/node --version || exit ${NODE_FAILED}`,
  ].join('\n');
  const out = await ctx.conn.run(script, 600_000);
  const said = (out.stderr.trim() || out.stdout.trim() || `exit code ${out.code}`).split('\n').slice(-3).join(' ');
  if (out.code === 0 && out.stdout.trim() === `v${ctx.version}`) return;
  await removeRemote(ctx, tmp);
  if (out.code === UNPACK_FAILED) {
    const noXz = z === 'J' && /xz/i.test(said);
    throw failed(
      ctx,
      `unpacking ${tarball.name} failed (${said})`,
      noXz
        ? 'the host cannot decompress .tar.xz (no xz there); use a .tar.gz tarball (nodeDist) instead'
        : /space|quota|wrote only|write error/i.test(said)
          ? 'the disk there is full: free space in the home folder (`df -h ~`, your quota) and retry; nothing was left behind'
          : 'check free space and that tar and gzip work there; nothing was left behind',
    );
  }
  throw failed(
    ctx,
    `the unpacked bin/node does not run there (${said})`,
    `the build may not fit the host (Alpine and other musl systems need a -musl build); set nodeDist: { file } to one that does, or node to the path of a Node >= ${MIN_NODE_MAJOR} there`,
  );
}

/** One log line about a provisioned runtime (undefined for the host's own Node). */
export function describeRuntime(node: RemoteNode, where: string): string | undefined {
  const r = node.runtime;
  if (!r) return undefined;
  if (!r.timings)
    return `Node ${node.version} already provisioned on ${where} at ${r.dir} (${r.reason}); nothing uploaded`;
  const { tarball, uploadS, unpackS } = r.timings;
  const got = tarball.downloadS > 0 ? `downloaded in ${tarball.downloadS.toFixed(1)} s, ` : `from ${tarball.source}, `;
  return `provisioned Node ${node.version} on ${where} at ${r.dir} (${r.reason}): ${tarball.name} (${(tarball.bytes / 1e6).toFixed(1)} MB) ${got}uploaded in ${uploadS.toFixed(1)} s, unpacked in ${unpackS.toFixed(1)} s`;
}

/**
 * The runtime folder name (`20.20.2-linux-x64`) this config would use on the host, without
 * provisioning anything; undefined when it uses the host's own Node or Node has no build for it.
 */
export async function runtimeNameFor(conn: SshConnection, config: NodeRuntimeConfig): Promise<string | undefined> {
  const choice = nodeChoiceOf(config);
  if (choice.mode === 'fixed') return undefined;
  const file = choice.dist && 'file' in choice.dist ? parseTarballName(choice.dist.file.split('/').pop()!) : undefined;
  if (file) return runtimeName(file.version, file.platform);
  const platform = distPlatformOf((await conn.run('uname -sm')).stdout);
  return platform ? runtimeName(defaultNodeVersion(), platform) : undefined;
}

/**
 * The shell words that run this Node. A provisioned runtime's `bin` also goes first on the PATH,
 * so that command tasks calling `node` or `npm` get it rather than an old one of the host.
 */
export function nodeCommand(node: RemoteNode): string {
  if (!node.runtime) return shellPath(node.path);
  return `env PATH=${shellQuote(`${node.runtime.dir}/bin`)}:"$PATH" ${shellQuote(node.path)}`;
}
