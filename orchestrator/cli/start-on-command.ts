/**
 * `orrery start --on <ssh host>`: the head runs on that host (a login node, a server), detached,
 * and this process holds the SSH tunnel to it until Ctrl-C. It writes this machine's head.json
 * with the tunnel's address and the head's token (read by SFTP, never from a command line), so
 * the CLI, client drivers (`init({ address: 'auto' })`) and the dashboard reach the head as if
 * it ran here. Run again, it reopens the tunnel to the head that runs there instead of starting
 * another. When the head stops (`orrery stop`), its exit record is copied here and this ends.
 */
import { readFileSync } from 'node:fs';
import { parseDuration } from '../core/duration.ts';
import { apiJson } from '../client/api-client.ts';
import { removeHeadFile, runningHead, writeHeadFile, type HeadFile } from '../client/head-file.ts';
import { findConfig } from '../head/config-file.ts';
import { headHostConfig, loginRecord } from '../remote-head/head-host-config.ts';
import { HeadTunnel } from '../remote-head/head-tunnel.ts';
import { RemoteHeadHost } from '../remote-head/remote-head.ts';
import { RemoteHeadRunningError, TunnelAlreadyOpenError } from '../remote-head/remote-head-errors.ts';
import { clearHeadExit, writeHeadExit, type HeadExit } from '../service/head-exit.ts';
import { DEFAULT_PORT } from '../service/head-service.ts';
import type { LoginUrl } from '../service/dashboard-login.ts';
import { HeadAlreadyRunningError } from '../service/service-errors.ts';
import type { CliOptions } from './command-line.ts';

/** The part of `orrery start --help` about `--on`. */
export const START_ON_USAGE = `orrery start --on <ssh host> runs the head on that host instead (user@host[:port] or an
~/.ssh/config alias; login keys from the config file's "head" entry: identityFile,
passphraseSecret, knownHostsFile, sshConfigFile, node, nodeDist). The host needs no Node and no
Orrery: both are uploaded once (~/.orrery/runtime, ~/.orrery/heads). The head there listens on
loopback only, keeps running when this process or the laptop goes away (its log:
~/.orrery/remote-head.log there), and records its sessions there. This process holds an SSH
tunnel to it on 127.0.0.1:--port (default ${DEFAULT_PORT}) until Ctrl-C and writes head.json here, so
orrery status, orrery stop, init({ address: 'auto' }) and the dashboard work as with a local
head. Run it again to reopen the tunnel to the running head (--session and --resume are
refused then: stop it first). orrery sessions pull <name> copies a session here.`;

/** How often the tunnel checks that the head is still there. */
const HEAD_CHECK_MS = 2000;

/** Parses a port option (0-65535). */
export function portOption(v: string | true | string[], name: string): number {
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > 65535)
    throw new Error(`${name} must be an integer from 0 to 65535 (got ${String(v)})`);
  return Number(v);
}

/** Starts (or finds) the head on the host and holds the tunnel; resolves with the exit code. */
export async function startOnCommand(opts: CliOptions, print: (line: string) => void): Promise<number> {
  if (opts.on === true || Array.isArray(opts.on)) throw new Error('--on needs a host: --on user@host[:port]');
  for (const local of ['host', 'allow-module-backends', 'tunnel-port'])
    if (opts[local] !== undefined)
      throw new Error(`--${local} is an option of a head on this machine; leave it out with --on`);
  const cfg = findConfig(typeof opts.config === 'string' ? opts.config : undefined);
  const hostConfig = headHostConfig(opts.on as string | undefined, cfg.head, `config file ${cfg.path ?? '(none)'}`);
  // A running head keeps its session; the config still gives the login keys when reopening.
  const asked = (['session', 'resume'] as const).filter((k) => opts[k] !== undefined);
  const headArgs = headStartArgs(opts);
  const here = runningHead();
  if (here?.remote) throw new TunnelAlreadyOpenError(here.remote.where, here.pid, here.url);
  if (here) throw new HeadAlreadyRunningError(here.pid, here.address);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const host = await RemoteHeadHost.connect(hostConfig);
  let head = await host.runningHead();
  let reopened = false;
  if (head && asked.length > 0)
    throw closing(
      host,
      new RemoteHeadRunningError(host.where, head.pid, head.session, asked.map((k) => `--${k}`).join(' ')),
    );
  if (head) reopened = true;
  else {
    const port = opts.port === undefined ? DEFAULT_PORT : portOption(opts.port, '--port');
    const args = ['--port', '0', '--tunnel-port', String(port), ...headArgs];
    if (cfg.path) {
      const remoteConfig = `${host.orreryDir}/head-config.json`;
      await host.ensureHead(log);
      await host.writePrivateFile(remoteConfig, readFileSync(cfg.path, 'utf8'));
      args.push('--config', remoteConfig);
    }
    head = await host.startHead(args, log).catch((err: Error) => {
      throw closing(host, err);
    });
  }
  const tunnelPort = head.tunnelPort ?? DEFAULT_PORT;
  if (opts.port !== undefined && reopened && portOption(opts.port, '--port') !== tunnelPort)
    print(`orrery: the head on ${host.where} answers on tunnel port ${tunnelPort} (set when it started); using it`);
  const tunnel = await HeadTunnel.open(tunnelPort, Number(new URL(head.url).port)).catch((err: Error) => {
    throw closing(host, err);
  });
  tunnel.use(await host.tunnelConnection());
  clearHeadExit();
  const local: HeadFile = {
    address: `ws://127.0.0.1:${tunnelPort}`,
    url: `http://127.0.0.1:${tunnelPort}`,
    token: head.token,
    pid: process.pid,
    startedAt: head.startedAt,
    ...(head.session && { session: head.session }),
    remote: {
      host: hostConfig.host,
      where: host.where,
      pid: head.pid,
      session: head.session,
      login: loginRecord(hostConfig),
    },
  };
  writeHeadFile(local);
  const login = await apiJson<LoginUrl>({ url: local.url, token: local.token }, 'POST', '/api/login-codes').catch(
    () => undefined,
  );
  print(
    `orrery head ${reopened ? 'found running' : 'started'} on ${host.where} (pid ${head.pid}); tunnel ${local.url} (this process, pid ${process.pid})`,
  );
  if (login) print(`  dashboard: ${login.url}`);
  print(`             (one-time login link; another: orrery dashboard --url)`);
  print(`  drivers:   init({ address: 'auto' }) or orrery run <script.ts> (address ${local.address})`);
  print(
    `  session:   ${head.session ?? '(unknown)'} (on ${host.where}; copy it here: orrery sessions pull ${head.session ?? '<name>'})`,
  );
  print(
    `  leave:     Ctrl-C closes the tunnel only; the head keeps running. orrery start --on ${hostConfig.host} reopens it`,
  );
  print(`  stop:      orrery stop (stops the head on ${host.where})`);
  return holdTunnel(host, tunnel, head.pid, print);
}

/** The head's own start options, passed on as they were given (validated by the head's `orrery start`). */
function headStartArgs(opts: CliOptions): string[] {
  const args: string[] = [];
  for (const k of ['session', 'resume', 'budget-usd', 'agent-grace'] as const) {
    const v = opts[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new Error(`option --${k} needs a value`);
    if (k === 'agent-grace') parseDuration(v, '--agent-grace');
    args.push(`--${k}`, v);
  }
  return args;
}

function closing(host: RemoteHeadHost, err: Error): Error {
  host.close();
  return err;
}

/**
 * Holds the tunnel until Ctrl-C/SIGTERM (the head keeps running) or until the head is gone
 * (its exit record is copied here for `orrery stop`). A dropped SSH connection is reopened
 * with backoff; meanwhile connections to the tunnel are refused.
 */
async function holdTunnel(
  first: RemoteHeadHost,
  tunnel: HeadTunnel,
  pid: number,
  print: (line: string) => void,
): Promise<number> {
  let host = first;
  let stopping = false;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  let exit: HeadExit | undefined;
  const watch = (async () => {
    while (!stopping) {
      await new Promise((r) => setTimeout(r, HEAD_CHECK_MS));
      if (stopping) return;
      if (host.conn.isClosed) {
        print(`orrery: the SSH connection to ${host.where} dropped; reconnecting (the head keeps running there)`);
        tunnel.use(undefined);
        for (let wait = 1000; !stopping && host.conn.isClosed; wait = Math.min(30_000, wait * 2)) {
          const again = await RemoteHeadHost.connect(host.config).catch((err: Error) => {
            print(`orrery: ${err.message}; trying again in ${wait / 1000} s`);
            return undefined;
          });
          if (again) host = again;
          else await new Promise((r) => setTimeout(r, wait));
        }
        if (stopping) return;
        print(`orrery: reconnected to ${host.where}`);
        tunnel.use(await host.tunnelConnection().catch(() => undefined));
        continue;
      }
      if (!tunnel.connected) tunnel.use(await host.tunnelConnection().catch(() => undefined));
      const alive = await host.alive(pid).catch(() => true);
      if (alive) continue;
      const record = await host.readFile(`${host.orreryDir}/head-exit.json`).catch(() => undefined);
      const parsed = parseExit(record);
      if (parsed?.pid === pid) exit = { ...parsed, log: `${host.where}:${parsed.log}` };
      return;
    }
  })();
  const why = await Promise.race([signalled, watch.then(() => 'gone' as const)]);
  stopping = true;
  if (exit) writeHeadExit(exit);
  removeHeadFile(process.pid);
  await tunnel.close();
  host.close();
  if (why === 'gone') {
    print(
      exit?.ok
        ? `the head on ${host.where} stopped`
        : `the head on ${host.where} ended: ${exit?.reason ?? 'it recorded no exit (killed?)'}`,
    );
    return exit?.ok ? 0 : 1;
  }
  print(
    `orrery: ${why}: tunnel closed; the head keeps running on ${host.where} (orrery start --on ${host.config.host} reopens the tunnel)`,
  );
  return 0;
}

/** The host's head-exit.json, or undefined when it is missing or unreadable (the head then died unrecorded). */
function parseExit(text: string | undefined): HeadExit | undefined {
  try {
    return text ? (JSON.parse(text) as HeadExit) : undefined;
  } catch {
    return undefined;
  }
}
