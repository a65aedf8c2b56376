/**
 * Entry of the node agent process. The protocol runs on stdin/stdout (the same over a local
 * pipe, an SSH channel or srun's forwarded stdio), so nothing else may write to stdout.
 *
 * With `listen` in its spec the agent outlives its head: it serves heads on that Unix socket and
 * ends after `graceS` seconds without one. `agent-main --bridge <socket>` carries a head's byte
 * stream (e.g. an SSH exec channel) to such an agent.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { Channel } from '../protocol/channel.ts';
import { NodeAgent, type AgentConfig } from './node-agent.ts';
import { DetachableHead } from './detachable-head.ts';

console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);

if (process.argv[2] === '--bridge') {
  void bridge(process.argv[3]!, process.argv[4]);
} else {
  const config = JSON.parse(process.env.ORRERY_AGENT ?? process.argv[2] ?? '{}') as AgentConfig;
  const head = config.listen
    ? new DetachableHead(config.listen, (config.graceS ?? 1800) * 1000, (line) => process.stderr.write(`${line}\n`))
    : new Channel(process.stdin, process.stdout, 'head');
  new NodeAgent(head, config);
}

/**
 * Carries stdin/stdout to the agent listening at `socketPath`. With a spec, an agent that is not
 * there yet is started first (detached, logging next to its socket), so one SSH exec both
 * finds an agent a previous head left running and starts a new one.
 */
async function bridge(socketPath: string, spec: string | undefined): Promise<void> {
  let sock = await tryConnect(socketPath);
  if (!sock && spec) {
    const log = openSync(socketPath.replace(/\.sock$/, '') + '.log', 'a', 0o600);
    spawn(process.execPath, [...process.execArgv, process.argv[1]!, spec], { detached: true, stdio: ['ignore', 'ignore', log] }).unref();
    for (let i = 0; i < 200 && !sock; i++) {
      await new Promise((r) => setTimeout(r, 50));
      sock = await tryConnect(socketPath);
    }
  }
  if (!sock) {
    process.stderr.write(`orrery agent bridge: no agent is listening at ${socketPath}\n`);
    process.exit(3);
  }
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
  sock.once('close', () => process.exit(0));
  process.stdin.once('end', () => sock.end());
}

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}
