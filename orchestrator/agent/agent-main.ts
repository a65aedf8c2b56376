/**
 * Entry of the node agent process. The protocol runs on stdin/stdout (the same over a local
 * pipe, an SSH channel or srun's forwarded stdio), so nothing else may write to stdout.
 *
 * With `listen` in its spec the agent outlives its head: it serves heads on that Unix socket and
 * ends after `graceS` seconds without one. `agent-main --bridge <socket>` carries a head's byte
 * stream (e.g. an SSH exec channel) to such an agent.
 */
import { createConnection } from 'node:net';
import { Channel } from '../protocol/channel.ts';
import { NodeAgent, type AgentConfig } from './node-agent.ts';
import { DetachableHead } from './detachable-head.ts';

console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);

if (process.argv[2] === '--bridge') {
  const sock = createConnection(process.argv[3]!);
  sock.once('error', (err) => {
    process.stderr.write(`orrery agent bridge: cannot reach the agent at ${process.argv[3]}: ${err.message}\n`);
    process.exit(3);
  });
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
  sock.once('close', () => process.exit(0));
  process.stdin.once('end', () => sock.end());
} else {
  const config = JSON.parse(process.env.ORRERY_AGENT ?? process.argv[2] ?? '{}') as AgentConfig;
  const head = config.listen
    ? new DetachableHead(config.listen, (config.graceS ?? 1800) * 1000, (line) => process.stderr.write(`${line}\n`))
    : new Channel(process.stdin, process.stdout, 'head');
  new NodeAgent(head, config);
}
