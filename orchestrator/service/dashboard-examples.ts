/**
 * The bundled examples (resources/examples/), started from the dashboard as drivers of this
 * head: node runs `<example>.ts` as `orrery run` does (driver-loader.ts), in the package's root
 * (where `orrery-compute` resolves to the package itself) with ORRERY_ADDRESS and ORRERY_TOKEN set, so its tasks show up on the dashboard like any driver's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DashboardRequestError } from './dashboard-errors.ts';
import { driverNodeFlags } from '../core/driver-loader.ts';
import { packagePath, packageRoot } from '../core/package-root.ts';

/** Examples the dashboard can start. */
export const EXAMPLES = {
  'vqe-h2':
    'VQE for the hydrogen molecule: circuit tasks on the quantum simulator, a classical optimiser on CPU tasks.',
  'parameter-sweep':
    'A hyper-parameter sweep: training tasks on shared data (put once, passed by ref) reporting to an actor.',
} as const;

/** The name of a bundled example. */
export type ExampleName = keyof typeof EXAMPLES;

/** Output lines kept per run. */
const OUTPUT_LINES = 200;

/** One start of an example. */
export interface ExampleRun {
  readonly pid: number;
  readonly startedAt: number;
  /** Set once it exited (null when a signal ended it). */
  exitCode?: number | null;
  /** The last lines it printed (stdout and stderr). */
  readonly output: string[];
}

/** A line of GET /api/examples. */
export interface ExampleView {
  readonly name: ExampleName;
  readonly description: string;
  readonly file: string;
  readonly runs: readonly ExampleRun[];
}

/** Starts and tracks example drivers of one head service. */
export class DashboardExamples {
  private readonly runs = new Map<ExampleName, ExampleRun[]>();
  private readonly children = new Set<ChildProcess>();

  constructor(
    private readonly driverEnv: () => { address: string; token: string },
    /** Hears each example's exit (its run on the Runs tab ends by its exit code). */
    private readonly exited: (pid: number, code: number | null, signal: string | null) => void = () => {},
  ) {}

  /** GET /api/examples. */
  list(): ExampleView[] {
    return (Object.keys(EXAMPLES) as ExampleName[]).map((name) => ({
      name,
      description: EXAMPLES[name],
      file: fileOf(name),
      runs: this.runs.get(name) ?? [],
    }));
  }

  /** POST /api/examples/run `{ name }`: starts the example; resolves with its pid once it was spawned. */
  run(body: unknown): Promise<{ pid: number }> {
    const name = (body as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || !Object.hasOwn(EXAMPLES, name)) {
      throw new DashboardRequestError(
        400,
        `name must be one of ${Object.keys(EXAMPLES).join(', ')} (got ${JSON.stringify(name)})`,
        { name: `one of ${Object.keys(EXAMPLES).join(', ')}` },
      );
    }
    const file = fileOf(name as ExampleName);
    if (!existsSync(file))
      throw new DashboardRequestError(404, `example ${name} is missing at ${file}; this installation has no examples`);
    const { address, token } = this.driverEnv();
    const child = spawn(process.execPath, [...driverNodeFlags(), file], {
      cwd: packageRoot(),
      env: { ...process.env, ORRERY_ADDRESS: address, ORRERY_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', (err) =>
        reject(new DashboardRequestError(400, `cannot start example ${name}: ${err.message}`)),
      );
      child.once('spawn', () => {
        const run: ExampleRun = { pid: child.pid!, startedAt: Date.now(), output: [] };
        const list = this.runs.get(name as ExampleName) ?? [];
        list.push(run);
        this.runs.set(name as ExampleName, list.slice(-10));
        const keep = (chunk: Buffer) => {
          run.output.push(
            ...chunk
              .toString('utf8')
              .split('\n')
              .filter((l) => l !== ''),
          );
          if (run.output.length > OUTPUT_LINES) run.output.splice(0, run.output.length - OUTPUT_LINES);
        };
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
        this.children.add(child);
        child.once('exit', (code, signal) => {
          run.exitCode = code;
          this.children.delete(child);
          this.exited(run.pid, code, signal);
        });
        resolve({ pid: run.pid });
      });
    });
  }

  /** Stops the examples still running (the head is going away). */
  close(): void {
    for (const c of this.children) c.kill('SIGTERM');
  }
}

function fileOf(name: ExampleName): string {
  return packagePath('resources', 'examples', `${name}.ts`);
}
