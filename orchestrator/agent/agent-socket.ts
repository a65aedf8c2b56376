/**
 * The files of an agent that outlives its head, beside its socket in the private run folder
 * (`~/.orrery/run`, mode 0700): `<base>.sock`; `<base>.secret`, which a head (or the bridge
 * acting for it) must show as the first line on the socket before the agent says or accepts
 * anything; `<base>.log`; `<base>.json` (a local agent's node id and pid, for the next head) and
 * `<base>.spec` (the spec of an agent sbatch starts, removed once read). All are 0600.
 */
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** What sits beside an agent's socket. */
export type AgentFileKind = 'secret' | 'log' | 'json' | 'spec';

/** The path of one of the agent's files, from its socket path (`<base>.sock` -> `<base>.<kind>`). */
export function agentFile(socketPath: string, kind: AgentFileKind): string {
  return `${socketPath.replace(/\.sock$/, '')}.${kind}`;
}

/**
 * Connects to the agent listening at `socketPath` and shows it its secret; resolves with the
 * socket, ready for frames, or undefined when no agent (of this user) listens there.
 */
export async function connectToAgent(socketPath: string): Promise<Socket | undefined> {
  let secret: string;
  try {
    secret = readFileSync(agentFile(socketPath, 'secret'), 'utf8').trim();
  } catch {
    return undefined;
  }
  const sock = await new Promise<Socket | undefined>((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
  sock?.write(`${secret}\n`);
  return sock;
}

/** Removes the agent's files (the log stays when `keepLog`: an agent that ended on its own says why there). */
export function removeAgentFiles(socketPath: string, keepLog: boolean): void {
  const kinds: AgentFileKind[] = keepLog ? ['secret', 'json', 'spec'] : ['secret', 'json', 'spec', 'log'];
  for (const path of [socketPath, ...kinds.map((k) => agentFile(socketPath, k))]) rmSync(path, { force: true });
}
