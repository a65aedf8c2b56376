/**
 * Entry of the node agent process. The protocol runs on stdin/stdout (the same over a local
 * pipe, an SSH channel or srun's forwarded stdio), so nothing else may write to stdout.
 */
import { Channel } from '../protocol/channel.ts';
import { NodeAgent, type AgentConfig } from './node-agent.ts';

console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
const config = JSON.parse(process.env.ORRERY_AGENT ?? process.argv[2] ?? '{}') as AgentConfig;
const channel = new Channel(process.stdin, process.stdout, 'head');
new NodeAgent(channel, config);
