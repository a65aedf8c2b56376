/**
 * Agents as child processes of the head. Embedded heads talk to them over stdio (they end with
 * the head). A service head (`durable`) starts them detached, listening on a Unix socket named
 * by backend and key, and first tries to reach an agent already there: one a previous head
 * started, still running its tasks.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AgentSpec, AgentStream, LocalAgentSpec, LocalNode } from '../../backends/types.ts';

/** What starting a local agent needs from the head. */
export interface LocalAgentHost {
  readonly agentEntry: string;
  readonly agentExecArgv: readonly string[];
  readonly workerSocket: string;
  readonly durable?: { readonly graceS: number; readonly runDir: string; readonly reattach: boolean };
  attach(stream: AgentStream, spec: AgentSpec): Promise<void>;
}

/** Starts (or, for a service head, finds) a local agent and attaches it. */
export async function startLocalAgent(host: LocalAgentHost, backend: string, spec: LocalAgentSpec, env: Readonly<Record<string, string>> = {}, key?: string): Promise<LocalNode> {
  if (host.durable && key !== undefined) return durableAgent(host, host.durable, backend, spec, env, key);
  const agent: AgentSpec = { ...spec, nodeId: randomBytes(8).toString('hex'), backend, headSocket: host.workerSocket };
  const proc = spawn(process.execPath, [...host.agentExecArgv, host.agentEntry], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env, ORRERY_AGENT: JSON.stringify(agent) },
    detached: true,
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const killTree = () => killGroup(proc.pid!);
  proc.stdin!.on('error', () => {});
  await host.attach({ input: proc.stdout!, output: proc.stdin!, kill: killTree }, agent);
  return { nodeId: agent.nodeId, exited, kill: async () => (killTree(), await exited) };
}

async function durableAgent(host: LocalAgentHost, durable: { graceS: number; runDir: string; reattach: boolean }, backend: string, spec: LocalAgentSpec, env: Readonly<Record<string, string>>, key: string): Promise<LocalNode> {
  mkdirSync(durable.runDir, { recursive: true, mode: 0o700 });
  const base = join(durable.runDir, `${backend}-${key}`.replace(/[^\w.-]/g, '_'));
  const socketPath = `${base}.sock`;
  let sock = await tryConnect(socketPath);
  if (sock && !durable.reattach) {
    // A head that does not resume a session starts clean: an agent a dead head left goes.
    sock.destroy();
    sock = undefined;
    const stale = (JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { pid: number }).pid;
    killGroup(stale);
    await gone(stale, true);
  }
  let nodeId: string;
  let pid: number;
  if (sock) {
    ({ nodeId, pid } = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { nodeId: string; pid: number });
  } else {
    nodeId = randomBytes(8).toString('hex');
    const agent: AgentSpec = { ...spec, nodeId, backend, headSocket: host.workerSocket, listen: socketPath, graceS: durable.graceS };
    const log = openSync(`${base}.log`, 'a', 0o600);
    const proc = spawn(process.execPath, [...host.agentExecArgv, host.agentEntry], {
      stdio: ['ignore', 'ignore', log],
      env: { ...process.env, ...env, ORRERY_AGENT: JSON.stringify(agent) },
      detached: true,
    });
    proc.unref();
    pid = proc.pid!;
    writeFileSync(`${base}.json`, JSON.stringify({ nodeId, pid }), { mode: 0o600 });
    for (let i = 0; i < 200 && !sock; i++) {
      await new Promise((r) => setTimeout(r, 50));
      sock = await tryConnect(socketPath);
    }
    if (!sock) throw new Error(`the agent of backend ${backend} did not open ${socketPath} within 10 s; see ${base}.log`);
  }
  const s = sock;
  s.on('error', () => {});
  await host.attach({ input: s, output: s, kill: () => s.destroy() }, { ...spec, nodeId, backend, listen: socketPath, graceS: durable.graceS });
  return { nodeId, exited: gone(pid, false), kill: async () => (killGroup(pid), await gone(pid, true)) };
}

/** Resolves once process `pid` is gone; `hold` keeps the event loop alive meanwhile (someone awaits it). */
function gone(pid: number, hold: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (!isAlive(pid)) {
        clearInterval(poll);
        resolve();
      }
    }, hold ? 20 : 200);
    if (!hold) poll.unref();
  });
}

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
