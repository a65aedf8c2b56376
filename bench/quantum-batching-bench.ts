/**
 * Circuit batching on a queued quantum service: the VQE example (resources/examples/vqe-h2.ts,
 * 18 circuit tasks per optimiser iteration) against the IBM emulator, whose every job waits
 * `queueDelayMs` in the queue, once with the ibm-quantum backend's default batchWindowMs and
 * once with batchWindowMs 0 (one job per circuit task, at most maxConcurrentJobs at once).
 * Reports wall time, jobs per iteration, the final energy's error, and the wall-time ratio. Then
 * the same with the energies as Estimator tasks (VQE_PRIMITIVE=estimator: 9 per iteration, one
 * Estimator job per iteration when batched); those metrics start with `estimator vqe`.
 * Needs the OS keychain (bench/run.ts runs it inside test/services/keyring.sh).
 *
 *   bash test/services/keyring.sh npx tsx bench/quantum-batching-bench.ts [--quick]
 *
 * Prints one JSON object per line (`metric`, `value`, `unit`, `system`, plus details).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Entry } from '@napi-rs/keyring';
import { startIbmEmulator } from '../test/emulators/ibm/index.ts';

const quick = process.argv.includes('--quick');
const QUEUE_DELAY_MS = quick ? 600 : 1000;
const ITERATIONS = quick ? 3 : 10;
const SHOTS = 4096;
const VQE = fileURLToPath(new URL('../resources/examples/vqe-h2.ts', import.meta.url));

interface VqeRun {
  readonly wallS: number;
  readonly jobs: number;
  readonly jobsPerIteration: number;
  readonly errorMha: number;
}

/** Runs the VQE example with `config` in a child process and reads its closing lines. */
function runVqe(config: string, primitive: 'circuit' | 'estimator'): Promise<VqeRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...process.execArgv, VQE, '--config', config], {
      env: {
        ...process.env,
        ORRERY_QUANTUM_BACKEND: 'ibm',
        VQE_ITERATIONS: String(ITERATIONS),
        VQE_SHOTS: String(SHOTS),
        VQE_PRIMITIVE: primitive,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('exit', (code) => {
      const wallS = (performance.now() - started) / 1000;
      const jobs = /jobs submitted: (\d+) \(([\d.]+) per optimiser iteration/.exec(out);
      const error = /error ([\d.]+) mHa/.exec(out);
      if (code !== 0 || !jobs || !error)
        return reject(new Error(`the VQE example exited with ${code}:\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      resolve({ wallS, jobs: Number(jobs[1]), jobsPerIteration: Number(jobs[2]), errorMha: Number(error[1]) });
    });
  });
}

const emu = await startIbmEmulator({ queueDelayMs: QUEUE_DELAY_MS, runDelayMs: 20 });
const secret = `orrery-bench-ibm-${randomBytes(4).toString('hex')}`;
new Entry('orrery', secret).setPassword(emu.apiKey);
const dir = mkdtempSync(join(tmpdir(), 'orrery-batching-bench-'));
try {
  for (const primitive of ['circuit', 'estimator'] as const) await compare(primitive);
} finally {
  rmSync(dir, { recursive: true, force: true });
  new Entry('orrery', secret).deletePassword();
  await emu.close();
}

/** The VQE with `primitive` tasks, batched and with batchWindowMs 0. */
async function compare(primitive: 'circuit' | 'estimator'): Promise<void> {
  const prefix = primitive === 'estimator' ? 'estimator ' : '';
  const results = new Map<string, VqeRun>();
  for (const [label, extra] of [
    ['batched', {}],
    ['batchWindowMs 0', { batchWindowMs: 0 }],
  ] as const) {
    const config = join(dir, `${primitive}-${label.replace(/\W+/g, '-')}.json`);
    const backend = {
      name: 'ibm',
      kind: 'ibm-quantum',
      instanceCrn: emu.instanceCrn,
      apiKeySecret: secret,
      url: emu.url,
      iamUrl: emu.iamUrl,
      device: 'ibm_fake_manila',
      pollIntervalMs: 100,
      ...extra,
    };
    writeFileSync(config, JSON.stringify({ backends: [backend] }), { mode: 0o600 });
    const r = await runVqe(config, primitive);
    results.set(label, r);
    const details = {
      system: `orrery ${label}`,
      queueDelayMs: QUEUE_DELAY_MS,
      iterations: ITERATIONS,
      shots: SHOTS,
      note: `VQE H2 example (${primitive} tasks) on the IBM emulator (ibm_fake_manila), every job queued for queueDelayMs`,
    };
    console.log(
      JSON.stringify({ metric: `${prefix}vqe wall time`, value: Number(r.wallS.toFixed(2)), unit: 's', ...details }),
    );
    console.log(
      JSON.stringify({
        metric: `${prefix}vqe jobs per iteration`,
        value: r.jobsPerIteration,
        unit: 'jobs',
        ...details,
      }),
    );
    console.log(JSON.stringify({ metric: `${prefix}vqe jobs in total`, value: r.jobs, unit: 'jobs', ...details }));
    console.log(
      JSON.stringify({ metric: `${prefix}vqe final energy error`, value: r.errorMha, unit: 'mHa', ...details }),
    );
  }
  const ratio = results.get('batchWindowMs 0')!.wallS / results.get('batched')!.wallS;
  console.log(
    JSON.stringify({
      metric: `${prefix}vqe wall-time ratio, batchWindowMs 0 / batched`,
      value: Number(ratio.toFixed(2)),
      unit: 'x',
      system: 'orrery',
      queueDelayMs: QUEUE_DELAY_MS,
    }),
  );
}
