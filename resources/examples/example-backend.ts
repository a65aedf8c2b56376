/**
 * A third-party backend in ~60 lines: the whole Backend contract (backends/types.ts) is
 * `start(host)` and `shutdown()`. This one runs node agents as low-priority (`nice`) child
 * processes, labelled so placement rules can target them. Use it from a config:
 *
 *   { "name": "background", "kind": "module:./resources/examples/example-backend.ts", "nodes": 2 }
 *
 * A real backend would open an SSH channel, submit a job, or call a cloud API instead of
 * `spawn`: anything that yields a byte stream to `node agent-main` will do. The agent reads its
 * spec as the first line of that stream (never from its command line, which any user can read).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Backend, BackendHost } from '../../backends/types.ts';

/** The module's factory: Orrery calls it with the config object. */
export function createBackend(config: Record<string, unknown>): Backend {
  const nodes = config.nodes ?? 1;
  const numCpus = config.numCpus ?? 1;
  if (!Number.isInteger(nodes) || (nodes as number) < 1)
    throw new TypeError(`backend ${String(config.name)}: nodes must be an integer >= 1`);
  if (typeof numCpus !== 'number' || numCpus <= 0)
    throw new TypeError(`backend ${String(config.name)}: numCpus must be a number > 0`);
  return new NiceBackend(String(config.name), nodes as number, numCpus);
}

class NiceBackend implements Backend {
  readonly kind = 'example-nice';
  private readonly procs = new Set<ChildProcess>();

  constructor(
    readonly name: string,
    private readonly nodes: number,
    private readonly numCpus: number,
  ) {}

  async start(host: BackendHost): Promise<void> {
    for (let i = 0; i < this.nodes; i++) {
      const spec = {
        nodeId: randomBytes(8).toString('hex'),
        backend: this.name,
        numCpus: this.numCpus,
        numGpus: 0,
        labels: { priority: 'low' },
      };
      const proc = spawn('nice', ['-n', '10', process.execPath, ...host.agentExecArgv, host.agentEntry], {
        stdio: ['pipe', 'pipe', 'inherit'],
        detached: true,
      });
      this.procs.add(proc);
      proc.once('exit', () => this.procs.delete(proc));
      proc.stdin!.on('error', () => {});
      proc.stdin!.write(`${JSON.stringify(spec)}\n`);
      await host.attach({ input: proc.stdout!, output: proc.stdin!, kill: () => killGroup(proc) }, spec);
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.procs].map(
        (p) =>
          new Promise<void>((resolve) => {
            p.once('exit', () => resolve());
            killGroup(p);
          }),
      ),
    );
  }
}

function killGroup(p: ChildProcess): void {
  try {
    process.kill(-p.pid!, 'SIGKILL');
  } catch {
    p.kill('SIGKILL');
  }
}
