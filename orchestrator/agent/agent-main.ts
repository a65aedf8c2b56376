/**
 * Entry of the node agent process. The protocol runs on stdin/stdout (the same over a local
 * pipe, an SSH channel or srun's forwarded stdio), so nothing else may write to stdout.
 *
 * The spec comes from the environment (ORRERY_AGENT: agents a head starts on its own machine),
 * from a private file (`--spec-file <path>`, removed once read: agents sbatch starts), or as the
 * first line on stdin (everything else, e.g. over ssh and srun): never from the command line,
 * which every user of the host can read.
 *
 * With `listen` in its spec the agent outlives its head: it serves heads on that Unix socket and
 * ends after `graceS` seconds without one. `agent-main --bridge <socket> [--start]` carries a
 * head's byte stream (e.g. an SSH exec channel) to such an agent, showing it the agent's secret
 * first; with `--start`, the first line on its stdin is the spec of an agent to start if none is
 * listening there yet.
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { ensurePrivateDir, ProcessDir } from '../core/runtime-dir.ts';
import { Channel } from '../protocol/channel.ts';
import { readPreamble } from '../protocol/preamble.ts';
import { NodeAgent } from './node-agent.ts';
import type { AgentSpec } from '../protocol/agent-spec.ts';
import { DetachableHead } from './detachable-head.ts';
import { agentFile, connectToAgent } from './agent-socket.ts';

console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
// Ended on purpose (scancel, kill): exit normally, so the agent's private folder and socket files go with it.
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => process.exit(128 + constants.signals[signal]));

/** The spec line on stdin, and how long it may take to come. */
const SPEC_LINE = { what: 'the agent spec (the first line on stdin)', maxBytes: 1 << 20, timeoutMs: 60_000 } as const;

const args = process.argv.slice(2);
const run = args[0] === '--bridge' ? bridge(args[1]!, args.includes('--start')) : startAgent();
run.catch((err: Error) => {
  process.stderr.write(`orrery agent: ${err.message}\n`);
  process.exit(2);
});

async function startAgent(): Promise<void> {
  const config = await readSpec();
  const workerLinkSecret = process.env.ORRERY_WORKER_LINK_SECRET;
  // Workers get it from the agent explicitly; nothing else this process starts needs it.
  delete process.env.ORRERY_WORKER_LINK_SECRET;
  // An agent that outlives heads keeps its folder beside its socket, in the run folder the next head looks in.
  const runDir = config.listen ? dirname(config.listen) : undefined;
  const dir = ProcessDir.create('agent', runDir ? { data: runDir, runtime: runDir } : undefined);
  const head = config.listen
    ? new DetachableHead(config.listen, (config.graceS ?? 1800) * 1000, (line) => process.stderr.write(`${line}\n`))
    : new Channel(process.stdin, process.stdout, 'head');
  new NodeAgent(head, config, { dir, workerLinkSecret });
}

async function readSpec(): Promise<AgentSpec> {
  const fromEnv = process.env.ORRERY_AGENT;
  delete process.env.ORRERY_AGENT;
  if (fromEnv) return parseSpec(fromEnv, 'ORRERY_AGENT');
  const i = args.indexOf('--spec-file');
  if (i >= 0) {
    const file = args[i + 1]!;
    const text = readFileSync(file, 'utf8');
    rmSync(file, { force: true });
    return parseSpec(text, file);
  }
  return parseSpec(await readPreamble(process.stdin, SPEC_LINE), 'stdin');
}

function parseSpec(text: string, from: string): AgentSpec {
  try {
    return JSON.parse(text) as AgentSpec;
  } catch (err) {
    throw new Error(
      `the agent spec from ${from} is not JSON (${(err as Error).message}); backends send it as ORRERY_AGENT, --spec-file or the first line on stdin`,
    );
  }
}

/**
 * Carries stdin/stdout to the agent listening at `socketPath`. With `start`, an agent that is not
 * there yet is started first (detached, logging next to its socket), so one SSH exec both finds
 * an agent a previous head left running and starts a new one.
 */
async function bridge(socketPath: string, start: boolean): Promise<void> {
  const spec = start ? await readPreamble(process.stdin, SPEC_LINE) : undefined;
  ensurePrivateDir(dirname(socketPath));
  let sock = await connectToAgent(socketPath);
  if (!sock && spec) {
    const log = openSync(agentFile(socketPath, 'log'), 'a', 0o600);
    spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
      detached: true,
      stdio: ['ignore', 'ignore', log],
      env: { ...process.env, ORRERY_AGENT: spec },
    }).unref();
    for (let i = 0; i < 200 && !sock; i++) {
      await new Promise((r) => setTimeout(r, 50));
      sock = await connectToAgent(socketPath);
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
