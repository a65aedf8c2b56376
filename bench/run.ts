/**
 * The benchmark suite (`npm run bench`): Orrery's workloads (Ray's microbenchmark names), then
 * the same workloads on Dask distributed and a bare child_process echo, run one after another
 * so they do not share the CPUs. Prints a table; `--json` prints one JSON object per line.
 *
 *   npm run bench [-- --quick] [-- --json]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrich, formatTable, type ResultLine } from './report.ts';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** Debian's python3-distributed lives under the system Python; ORRERY_BENCH_PYTHON overrides it. */
const PYTHON = process.env.ORRERY_BENCH_PYTHON ?? '/usr/bin/python3';
/** Ray is not a Debian package: a python with `ray` installed (a virtual environment), see ray_peer.py. */
const RAY_PYTHON = process.env.ORRERY_BENCH_RAY_PYTHON;
const tsArgs = (file: string): string[] => [...process.execArgv, here(file), ...(quick ? ['--quick'] : [])];

/** One program of the suite. Its stdout lines that are JSON objects are its results. */
interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly timeoutS: number;
  /** Orrery's own steps: the suite exits non-zero when one fails (a missing peer does not). */
  readonly required?: boolean;
  /** Why the step cannot run here, said instead of running it. */
  readonly unavailable?: string;
  /** Filled into lines that lack them (scheduler-bench.ts prints metric, value, unit only). */
  readonly defaults?: Partial<ResultLine>;
}

interface StepOutcome {
  readonly lines: ResultLine[];
  readonly problem?: string;
}

function steps(): Step[] {
  const scale = quick ? 1 : 3;
  const list: Step[] = [
    {
      name: 'orrery workloads',
      command: process.execPath,
      args: tsArgs('./orrery-workloads.ts'),
      timeoutS: 60 * scale,
      required: true,
    },
    {
      name: 'orrery 1M queued tasks',
      command: process.execPath,
      args: tsArgs('./orrery-queued-rss.ts'),
      timeoutS: 60 * scale,
      required: true,
    },
    {
      name: 'orrery shutdown with queued tasks',
      command: process.execPath,
      timeoutS: 30 * scale,
      args: [...tsArgs('./orrery-queued-rss.ts'), '--shutdown', String(quick ? 10_000 : 100_000)],
    },
  ];
  if (existsSync(here('./scheduler-bench.ts'))) {
    list.push({
      name: 'scheduler bench',
      command: process.execPath,
      args: [...process.execArgv, here('./scheduler-bench.ts')],
      timeoutS: 60,
      defaults: {
        system: 'orrery',
        note: 'ClusterScheduler in-process, no workers: 100k one-CPU tasks on 1000 simulated 8-CPU nodes',
      },
    });
  }
  list.push({
    name: 'placement groups',
    command: process.execPath,
    args: tsArgs('./placement-group-bench.ts'),
    timeoutS: 60 * scale,
    required: true,
  });
  list.push({
    name: 'object store',
    command: process.execPath,
    args: tsArgs('./object-store-bench.ts'),
    timeoutS: 120 * scale,
    required: true,
  });
  list.push({
    name: 'node to node',
    command: process.execPath,
    args: tsArgs('./node-to-node-bench.ts'),
    timeoutS: 120 * scale,
    required: true,
  });
  list.push({
    name: 'large value',
    command: process.execPath,
    args: tsArgs('./large-value-bench.ts'),
    timeoutS: 180 * scale,
    required: true,
  });
  list.push({
    name: 'dashboard',
    command: process.execPath,
    args: tsArgs('./dashboard-bench.ts'),
    timeoutS: 300 * scale,
  });
  list.push({
    name: 'quantum simulator',
    command: process.execPath,
    args: tsArgs('./quantum-bench.ts'),
    timeoutS: quick ? 120 : 600,
  });
  list.push({
    name: 'quantum estimator',
    command: process.execPath,
    args: tsArgs('./estimator-bench.ts'),
    timeoutS: 60 * scale,
  });
  list.push({
    name: 'quantum batching',
    command: '/bin/bash',
    args: [here('../test/services/keyring.sh'), process.execPath, ...tsArgs('./quantum-batching-bench.ts')],
    timeoutS: quick ? 180 : 420,
  });
  list.push({
    name: 'remote backends',
    command: process.execPath,
    args: tsArgs('./remote-workloads.ts'),
    timeoutS: 90 * scale,
  });
  list.push({
    name: 'child_process peer',
    command: process.execPath,
    args: tsArgs('./peers/child-process-peer.ts'),
    timeoutS: 30 * scale,
  });
  list.push({
    name: 'ray peer',
    command: RAY_PYTHON ?? '',
    args: [here('./ray_peer.py'), ...(quick ? ['--quick'] : [])],
    timeoutS: 90 * scale,
    unavailable: RAY_PYTHON
      ? undefined
      : 'ray peer could not run: ORRERY_BENCH_RAY_PYTHON is not set; make a virtual environment with ray==2.58.0 and numpy and set it to its python (see bench/ray_peer.py)',
  });
  list.push({
    name: 'dask peer',
    command: PYTHON,
    args: [here('./dask_peer.py'), ...(quick ? ['--quick'] : [])],
    timeoutS: 60 * scale,
  });
  return list;
}

function progress(line: string): void {
  if (!json) process.stderr.write(`${line}\n`);
}

/** Runs a step to its end (or its timeout) and collects its result lines. */
function runStep(step: Step): Promise<StepOutcome> {
  return new Promise((resolve) => {
    if (step.unavailable) {
      resolve({ lines: [], problem: step.unavailable });
      return;
    }
    if (!existsSync(step.command)) {
      resolve({ lines: [], problem: `${step.name} could not run: ${step.command} does not exist` });
      return;
    }
    const child = spawn(step.command, [...step.args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      if (!json) process.stderr.write(t.replace(/^(?=.)/gm, `  [${step.name}] `));
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, step.timeoutS * 1000);
    child.on('error', (err) => (stderr += String(err)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines: ResultLine[] = [];
      for (const text of stdout.split('\n')) {
        if (!text.startsWith('{')) continue;
        try {
          lines.push({ ...step.defaults, ...(JSON.parse(text) as ResultLine) });
        } catch {
          // a worker's stray output line that merely starts with a brace
        }
      }
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      let problem: string | undefined;
      if (timedOut)
        problem = `${step.name} did not finish within ${step.timeoutS} s and was killed; results it printed before are kept`;
      else if (code !== 0)
        problem = `${step.name} could not run (exit ${code ?? signal}): ${tail || 'no error output'}`;
      resolve({ lines, problem });
    });
  });
}

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'orchestrator', 'backends'], { encoding: 'utf8' }).trim() !==
      '';
    return dirty ? `${rev} + uncommitted changes in orchestrator/ or backends/` : rev;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const results: ResultLine[] = [];
  const problems: string[] = [];
  const loads: string[] = [];
  let failed = false;
  for (const step of steps()) {
    const load = loadavg()[0]!.toFixed(2);
    progress(`running ${step.name} (1-min load average ${load})...`);
    const t0 = Date.now();
    const outcome = await runStep(step);
    loads.push(`${step.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s, load before ${load}`);
    results.push(...outcome.lines);
    if (step.required && (outcome.problem || outcome.lines.length === 0)) failed = true;
    if (outcome.problem) {
      problems.push(outcome.problem);
      process.stderr.write(`\n!!! ${outcome.problem}\n\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
  const enriched = enrich(results);
  if (json) {
    for (const r of enriched) console.log(JSON.stringify(r));
    return;
  }
  const saved = join(tmpdir(), `orrery-bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}.jsonl`);
  writeFileSync(saved, enriched.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const header = [
    `Orrery benchmark suite (${quick ? 'quick smoke run: small N, short timings' : 'full'}), ${new Date(started).toISOString()}`,
    `machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, git ${gitRevision()}`,
    `steps (run one after another): ${loads.join('; ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`,
    'orrery: embedded init() with its default local node; ratios are orrery value / peer value (above 1x: Orrery is faster)',
    `every line with all its fields (as --json prints them): ${saved}`,
  ];
  console.log(formatTable(enriched, header, problems));
}

await main();
