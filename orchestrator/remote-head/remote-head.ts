/**
 * The head service on another machine, reached over SSH (`orrery start --on`): ships the head
 * (head-bundle.ts) and a Node for it (the provisioned runtime of bare hosts), finds a head
 * already running there from its `~/.orrery/head.json`, starts one detached (its own session
 * and process group, stdin closed, output to `~/.orrery/remote-head.log`, so it outlives the SSH
 * connection and the laptop), and reads its token and exit record by SFTP: the token never
 * appears on a command line or in a URL.
 */
import { randomBytes } from 'node:crypto';
import { BackendError } from '../core/errors.ts';
import { SshConnection } from '../../backends/transport/ssh/connection.ts';
import { connectOptionsFor, targetFor } from '../../backends/transport/ssh/login.ts';
import {
  describeRuntime,
  nodeCommand,
  resolveRemoteNode,
  type RemoteNode,
} from '../../backends/transport/ssh/node-runtime.ts';
import { sftpPromises, writeTree } from '../../backends/transport/ssh/remote-agent.ts';
import { ensureRemoteRunDir } from '../../backends/transport/ssh/remote-run-dir.ts';
import { describeAddress } from '../../backends/transport/ssh/ssh-config.ts';
import { shellCommand, shellQuote } from '../../backends/transport/shell-quote.ts';
import type { HeadFile } from '../client/head-file.ts';
import { HEAD_CLI_FILE, headBundle, type HeadBundle } from './head-bundle.ts';
import type { HeadHostConfig } from './head-host-config.ts';
import { HeadHostLoginError, RemoteHeadPlatformError, RemoteHeadStartError } from './remote-head-errors.ts';

/** How long a starting head may take to write its head.json (it starts its local node first). */
const START_TIMEOUT_MS = 120_000;

/** The head as shipped to a host: the Node it runs with and its folder there. */
export interface ShippedHead {
  readonly node: RemoteNode;
  /** `~/.orrery/heads/<hash>` on the host. */
  readonly dir: string;
  readonly bundle: HeadBundle;
}

/** The head's arguments that `orrery start --on` passes on (never a secret). */
export type HeadStartArgs = readonly string[];

/** An SSH connection to the head host, with the head shipped there. */
export class RemoteHeadHost {
  private constructor(
    readonly conn: SshConnection,
    readonly config: HeadHostConfig,
    /** `user@host:port`, for messages. */
    readonly where: string,
    /** The remote home folder. */
    readonly home: string,
  ) {}

  /** Logs in; an unreachable host, a refused key or an unknown host key is one HeadHostLoginError. */
  static async connect(config: HeadHostConfig): Promise<RemoteHeadHost> {
    let conn: SshConnection;
    try {
      const target = targetFor(config, config.host);
      conn = await SshConnection.open(connectOptionsFor(config, target));
    } catch (err) {
      if (err instanceof BackendError) throw new HeadHostLoginError(config.host, withoutPrefix(err.message));
      throw err;
    }
    const where = `${conn.target.user}@${describeAddress(conn.target)}`;
    const home = await conn.sftp((s) => sftpPromises(s).realpath('.'));
    return new RemoteHeadHost(conn, config, where, home);
  }

  /**
   * A second connection for the tunnel alone: forwarded channels are not sshd sessions, so its
   * channel limit is high, and a browser's many connections never wait behind the exec probes.
   */
  async tunnelConnection(): Promise<SshConnection> {
    try {
      return await SshConnection.open({
        ...connectOptionsFor(this.config, targetFor(this.config, this.config.host)),
        maxSessions: 512,
      });
    } catch (err) {
      if (err instanceof BackendError) throw new HeadHostLoginError(this.config.host, withoutPrefix(err.message));
      throw err;
    }
  }

  /** `~/.orrery` on the host. */
  get orreryDir(): string {
    return `${this.home}/.orrery`;
  }

  /** The head service running there now (its head.json, and its process alive), or undefined. */
  async runningHead(): Promise<HeadFile | undefined> {
    const text = await this.readFile(`${this.orreryDir}/head.json`);
    if (text === undefined) return undefined;
    let h: HeadFile;
    try {
      h = JSON.parse(text) as HeadFile;
    } catch {
      return undefined;
    }
    if (!Number.isInteger(h.pid) || typeof h.token !== 'string' || typeof h.url !== 'string') return undefined;
    return (await this.alive(h.pid)) ? h : undefined;
  }

  /**
   * True while process `pid` runs on the host. A zombie does not count: the detached head's
   * parent is whatever adopts orphans there, which may be slow to reap it (or never, in a
   * container whose first process does not), and `kill -0` succeeds on a zombie.
   */
  async alive(pid: number): Promise<boolean> {
    const out = await this.conn.run(`ps -o stat= -p ${Number(pid)}`);
    const stat = out.stdout.trim();
    return out.code === 0 && stat !== '' && !stat.startsWith('Z');
  }

  /** A file of the host by SFTP, or undefined when it does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    return this.conn.sftp(
      (sftp) =>
        new Promise<string | undefined>((resolve, reject) =>
          sftp.readFile(path, (err: (Error & { code?: number }) | null | undefined, data?: Buffer) => {
            if (!err) return resolve(data!.toString('utf8'));
            // SFTP status 2: no such file.
            if (err.code === 2) return resolve(undefined);
            reject(err);
          }),
        ),
    );
  }

  private shipped: Promise<ShippedHead> | undefined;

  /** The Node and the head bundle on the host (uploaded once; a second start uploads nothing; once per connection). */
  ensureHead(log: (line: string) => void): Promise<ShippedHead> {
    this.shipped ??= this.ship(log).catch((err: unknown) => {
      this.shipped = undefined;
      throw err;
    });
    return this.shipped;
  }

  private async ship(log: (line: string) => void): Promise<ShippedHead> {
    const bundle = await headBundle();
    const uname = (await this.conn.run('uname -sm')).stdout.trim();
    const platform = hostPlatform(uname);
    if (platform !== bundle.platform) throw new RemoteHeadPlatformError(this.where, platform, bundle.platform);
    const node = await resolveRemoteNode(this.conn, this.config, 'head', log);
    const runtime = describeRuntime(node, this.where);
    if (runtime) log(runtime);
    const abi = (await this.conn.run(`${nodeCommand(node)} -p process.versions.modules`)).stdout.trim();
    if (abi !== bundle.abi)
      throw new RemoteHeadPlatformError(
        this.where,
        `${platform} with Node ${node.version} (ABI ${abi})`,
        `Node ABI ${bundle.abi}; leave head.node unset (a provisioned Node)`,
      );
    await ensureRemoteRunDir(this.conn, 'head');
    const dir = `${this.orreryDir}/heads/${bundle.hash}`;
    await this.conn.sftp(async (sftp) => {
      const s = sftpPromises(sftp);
      if (await s.exists(dir)) return;
      log(`uploading the head (${bundle.files.size} files) to ${this.where}:${dir}`);
      await s.mkdirp(`${this.orreryDir}/heads`);
      const tmp = `${this.orreryDir}/heads/.tmp-${bundle.hash}-${randomBytes(4).toString('hex')}`;
      await writeTree(s, tmp, bundle.files);
      // Another start may have won the rename: its folder holds the same bytes.
      await s.rename(tmp, dir).catch(async (err: Error) => {
        if (!(await s.exists(dir))) throw err;
      });
    });
    return { node, dir, bundle };
  }

  /** Writes a private file (0600) on the host, replacing any: the config file the head reads. */
  async writePrivateFile(path: string, data: string): Promise<void> {
    await this.conn.sftp((sftp) => sftpPromises(sftp).writeFile(path, Buffer.from(data)));
    await this.conn.run(shellCommand(['chmod', '600', '--', path]));
  }

  /**
   * Starts `orrery start <args>` there, detached, and waits until its head.json names it.
   * Throws RemoteHeadStartError with the end of its log when it exits first or takes too long.
   */
  async startHead(args: HeadStartArgs, log: (line: string) => void): Promise<HeadFile> {
    const { node, dir } = await this.ensureHead(log);
    const logFile = `${this.orreryDir}/remote-head.log`;
    const cli = shellQuote(`${dir}/${HEAD_CLI_FILE}`);
    const run = `${nodeCommand(node)} ${cli} start ${args.map(shellQuote).join(' ')}`;
    // setsid (where there is one) takes the head out of the SSH session's process group, so the
    // hangup at logout does not reach it; nohup covers hosts without it (macOS).
    const script = [
      'umask 077',
      `cd ${shellQuote(`${this.orreryDir}/run`)} || exit 4`,
      `printf '\\n--- orrery start --on, %s\\n' "$(date)" >> ${shellQuote(logFile)}`,
      `if command -v setsid >/dev/null 2>&1; then d=setsid; else d=; fi`,
      `$d nohup ${run} < /dev/null >> ${shellQuote(logFile)} 2>&1 &`,
      'echo $!',
    ].join('\n');
    const out = await this.conn.run(script);
    const pid = Number(out.stdout.trim());
    if (out.code !== 0 || !Number.isInteger(pid))
      throw new RemoteHeadStartError(
        this.where,
        logFile,
        (out.stderr.trim() || `exit code ${out.code}`).split('\n')[0]!,
      );
    const end = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const head = await this.runningHead();
      if (head) return head;
      if (!(await this.alive(pid)) || Date.now() > end) {
        const tail = (await this.conn.run(shellCommand(['tail', '-n', '5', '--', logFile]))).stdout.trim();
        const last = tail
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(-3)
          .join(' | ');
        throw new RemoteHeadStartError(
          this.where,
          logFile,
          Date.now() > end ? `no head.json after ${START_TIMEOUT_MS / 1000} s; ${last}` : last,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Runs `orrery <args>` of the shipped head there to completion (a session export). */
  async runOrrery(
    args: readonly string[],
    timeoutMs: number,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { node, dir } = await this.ensureHead(() => {});
    return this.conn.run(
      `${nodeCommand(node)} ${shellQuote(`${dir}/${HEAD_CLI_FILE}`)} ${args.map(shellQuote).join(' ')}`,
      timeoutMs,
    );
  }

  close(): void {
    this.conn.close();
  }
}

const MACHINES = new Map([
  ['x86_64', 'x64'],
  ['amd64', 'x64'],
  ['aarch64', 'arm64'],
  ['arm64', 'arm64'],
]);

/** `uname -sm` as Node names platforms (`Linux x86_64` -> `linux-x64`). */
function hostPlatform(uname: string): string {
  const [os = '', machine = ''] = uname.toLowerCase().split(/\s+/);
  return `${os}-${MACHINES.get(machine) ?? machine}`;
}

/** A BackendError's message without its `backend head: ` prefix. */
function withoutPrefix(message: string): string {
  return message.replace(/^backend head: /, '');
}
