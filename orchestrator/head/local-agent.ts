/** Agents as child processes of the head, speaking the protocol over stdio. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AgentSpec, AgentStream, LocalAgentSpec, LocalNode } from '../../backends/types.ts';

/** What starting a local agent needs from the head. */
export interface LocalAgentHost {
  readonly agentEntry: string;
  readonly agentExecArgv: readonly string[];
  readonly workerSocket: string;
  attach(stream: AgentStream, spec: AgentSpec): Promise<void>;
}

/** Spawns an agent in its own process group (so kill takes its workers too) and attaches it. */
export async function startLocalAgent(host: LocalAgentHost, backend: string, spec: LocalAgentSpec, env: Readonly<Record<string, string>> = {}): Promise<LocalNode> {
  const agent: AgentSpec = { ...spec, nodeId: randomBytes(8).toString('hex'), backend, headSocket: host.workerSocket };
  const proc = spawn(process.execPath, [...host.agentExecArgv, host.agentEntry], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env, ORRERY_AGENT: JSON.stringify(agent) },
    detached: true,
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const killTree = () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      proc.kill('SIGKILL');
    }
  };
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
