/**
 * Agents as child processes of the head. Embedded heads talk to them over stdio (they end with
 * the head). A service head (`durable`) starts them detached, listening on a Unix socket named
 * by backend and key, and first tries to reach an agent already there: one a previous head
 * started, still running its tasks. Their sockets, logs and state files are in the private run
 * folder; the head shows such an agent its secret before anything else (agent/agent-socket.ts).
 * Every agent gets the head's worker link secret in its environment, never on its command line.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentSpec, AgentStream, LocalAgentSpec, LocalNode } from '../../backends/types.ts';
import { ensurePrivateDir, socketFileName, writePrivateFile } from '../core/runtime-dir.ts';
import { agentFile, connectToAgent } from '../agent/agent-socket.ts';

/** What starting a local agent needs from the head. */
export interface LocalAgentHost {
  readonly agentEntry: string;
  readonly agentExecArgv: readonly string[];
  readonly workerSocket: string;
  /** What the head's workers show on its worker socket (handed to agents as ORRERY_WORKER_LINK_SECRET). */
  readonly workerLinkSecret: string;
  readonly durable?: { readonly graceS: number; readonly runDir: string; readonly reattach: boolean };
  attach(stream: AgentStream, spec: AgentSpec): Promise<void>;
}

/** Starts (or, for a service head, finds) a local agent and attaches it. */
export async function startLocalAgent(
  host: LocalAgentHost,
  backend: string,
  spec: LocalAgentSpec,
  env: Readonly<Record<string, string>> = {},
  key?: string,
): Promise<LocalNode> {
  if (host.durable && key !== undefined) return durableAgent(host, host.durable, backend, spec, env, key);
  const agent: AgentSpec = { ...spec, nodeId: randomBytes(8).toString('hex'), backend, headSocket: host.workerSocket };
  const proc = spawn(process.execPath, [...host.agentExecArgv, host.agentEntry], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ...env,
      ORRERY_AGENT: JSON.stringify(agent),
      ORRERY_WORKER_LINK_SECRET: host.workerLinkSecret,
    },
    detached: true,
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const killTree = () => killGroup(proc.pid!);
  proc.stdin!.on('error', () => {});
  await host.attach({ input: proc.stdout!, output: proc.stdin!, kill: killTree }, agent);
  return {
    nodeId: agent.nodeId,
    exited,
    kill: async () => {
      killTree();
      await exited;
    },
  };
}

async function durableAgent(
  host: LocalAgentHost,
  durable: { graceS: number; runDir: string; reattach: boolean },
  backend: string,
  spec: LocalAgentSpec,
  env: Readonly<Record<string, string>>,
  key: string,
): Promise<LocalNode> {
  ensurePrivateDir(durable.runDir);
  const socketPath = join(durable.runDir, socketFileName(`${backend}-${key}`));
  const stateFile = agentFile(socketPath, 'json');
  let sock = await connectToAgent(socketPath);
  if (sock && !durable.reattach) {
    // A head that does not resume a session starts clean: an agent a dead head left goes.
    sock.destroy();
    sock = undefined;
    const stale = (JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number }).pid;
    killGroup(stale);
    await gone(stale, true);
  }
  let nodeId: string;
  let pid: number;
  if (sock) {
    ({ nodeId, pid } = JSON.parse(readFileSync(stateFile, 'utf8')) as { nodeId: string; pid: number });
  } else {
    nodeId = randomBytes(8).toString('hex');
    const agent: AgentSpec = {
      ...spec,
      nodeId,
      backend,
      headSocket: host.workerSocket,
      listen: socketPath,
      graceS: durable.graceS,
    };
    const logFile = agentFile(socketPath, 'log');
    const log = openSync(logFile, 'a', 0o600);
    const proc = spawn(process.execPath, [...host.agentExecArgv, host.agentEntry], {
      stdio: ['ignore', 'ignore', log],
      env: {
        ...process.env,
        ...env,
        ORRERY_AGENT: JSON.stringify(agent),
        ORRERY_WORKER_LINK_SECRET: host.workerLinkSecret,
      },
      detached: true,
    });
    proc.unref();
    pid = proc.pid!;
    writePrivateFile(stateFile, JSON.stringify({ nodeId, pid }));
    for (let i = 0; i < 200 && !sock; i++) {
      await new Promise((r) => setTimeout(r, 50));
      sock = await connectToAgent(socketPath);
    }
    if (!sock)
      throw new Error(`the agent of backend ${backend} did not open ${socketPath} within 10 s; see ${logFile}`);
  }
  const s = sock;
  s.on('error', () => {});
  await host.attach(
    { input: s, output: s, kill: () => s.destroy() },
    { ...spec, nodeId, backend, listen: socketPath, graceS: durable.graceS },
  );
  return {
    nodeId,
    exited: gone(pid, false),
    kill: async () => {
      killGroup(pid);
      await gone(pid, true);
    },
  };
}

/** Resolves once process `pid` is gone; `hold` keeps the event loop alive meanwhile (someone awaits it). */
function gone(pid: number, hold: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const poll = setInterval(
      () => {
        if (!isAlive(pid)) {
          clearInterval(poll);
          resolve();
        }
      },
      hold ? 20 : 200,
    );
    if (!hold) poll.unref();
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
