/**
 * Runs circuit tasks on IBM Quantum: read the API key from the keychain, choose the device,
 * transpile to its native gates and coupling map, submit one Sampler V2 job with one PUB per
 * circuit (split by the per-job execution limit), poll it (reporting the queue position), and
 * turn each PUB's hex samples into Counts over its original circuit's clbits.
 *
 * The Runtime API tells no job its place in the queue, so the position is estimated: the
 * device's pending jobs at submission plus one, lowered while the device's queue shrinks.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import { readSecret } from '../../../orchestrator/core/keychain.ts';
import type { CircuitOutcome } from '../batching/circuit-batcher.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../run-types.ts';
import { toQasm3 } from '../qasm/index.ts';
import { targetFromIbmConfiguration, transpile } from '../transpile/index.ts';
import { DEFAULT_IAM_URL, DEFAULT_IBM_URL, DEFAULT_MAX_EXECUTIONS_PER_JOB, type IbmQuantumConfig } from './config.ts';
import { LEAST_BUSY, checkQubits, chooseDevice } from './device-choice.ts';
import { IBM_SESSION_ENV, leaveSession, submitInMode } from './execution-mode.ts';
import { reserveIbmJob } from './job-cost.ts';
import {
  chunkJobs,
  followJob,
  jobState,
  liveMembers,
  reportedInfo,
  reporter,
  shareJobCost,
  type Follower,
  type PubResults,
} from './job-follow.ts';
import type { IamSource } from './iam-token.ts';
import { RuntimeClient } from './runtime-client.ts';
import { samplesToCounts } from './sampler-results.ts';
import { type SweepPart, sweepParts, sweepRowResults } from './sweep-pub.ts';

// Moved to job-follow.ts (shared with the Estimator's batches); re-exported for their importers.
export { cancelQuietly, jobState, pollUntilFinal, throwIfAborted } from './job-follow.ts';

/** Runs `run` on the IBM Quantum instance of `config`. Cancelling the task (run.signal) cancels the remote job. */
export async function runOnIbm(config: IbmQuantumConfig, run: CircuitRun): Promise<CircuitResult> {
  const [outcome] = await runIbmBatch(config, [run]);
  if (outcome instanceof Error) throw outcome;
  return outcome as CircuitResult;
}

/** Runs sweep `run` (`run.sweep`) on IBM Quantum as one PUB with parameter_values; one result per binding. */
export async function runSweepOnIbm(config: IbmQuantumConfig, run: CircuitRun): Promise<readonly CircuitResult[]> {
  const [outcome] = await runIbmBatch(config, [run]);
  if (outcome instanceof Error) throw outcome;
  return outcome as readonly CircuitResult[];
}

/**
 * Runs circuits bound for the same device as few Sampler V2 jobs as the per-job limit allows
 * (one PUB per circuit, at most `maxExecutionsPerJob` shots summed over a job's PUBs), returning
 * one outcome per run, in order. A run with `resumeJobId` (`<job id>` or `<job id>#<index>`)
 * follows that job instead. A sweep (`run.sweep`) is one PUB with parameter_values (several, in
 * several jobs, when its rows x shots exceed the limit) and its outcome one result per binding;
 * its `resumeJobId` is `<job>#<pub>`, or `<job>#<pub>,...` for a sweep cut into parts. A job is
 * cancelled once every run in it was aborted; an aborted run's outcome is its signal's reason. In batch or session mode jobs go into the backend's
 * batch or session, whose file is `sessionPath` (the worker's environment names it by default).
 */
export async function runIbmBatch(
  config: IbmQuantumConfig,
  runs: readonly CircuitRun[],
  sessionPath: string | undefined = process.env[IBM_SESSION_ENV],
): Promise<CircuitOutcome[]> {
  const outcomes: (CircuitOutcome | undefined)[] = runs.map((r) =>
    r.signal.aborted ? (r.signal.reason as Error) : undefined,
  );
  const settle = (i: number, work: Promise<CircuitResult | readonly CircuitResult[]>) =>
    work.then(
      (r) => void (outcomes[i] = r),
      (err) => void (outcomes[i] = err as Error),
    );
  try {
    const client = await clientFor(config);
    const fresh = runs.map((r, i) => ({ run: r, position: i })).filter((m) => !outcomes[m.position]);
    const resumed = fresh.filter((m) => m.run.resumeJobId);
    const waits: Promise<unknown>[] = resumed.map((m) => settle(m.position, followAgain(config, client, m.run)));
    const toSubmit = fresh.filter((m) => !m.run.resumeJobId);
    // The rows of each sweep part as they come: a sweep's outcome is all its parts' rows, in order.
    const sweepRows = new Map<number, (readonly CircuitResult[] | undefined)[]>();
    const deliver = (p: PreparedPub, o: CircuitOutcome) => {
      if (!p.sweep || o instanceof Error) {
        if (!(outcomes[p.position] instanceof Error)) outcomes[p.position] = o;
        return;
      }
      const parts = sweepRows.get(p.position) ?? new Array(p.sweep.parts).fill(undefined);
      sweepRows.set(p.position, parts);
      parts[p.sweep.part] = o as readonly CircuitResult[];
    };
    if (toSubmit.length > 0) {
      const max = config.maxExecutionsPerJob ?? DEFAULT_MAX_EXECUTIONS_PER_JOB;
      const { device, pubs } = await prepare(config, client, toSubmit, max);
      for (const p of pubs) if (p.error) outcomes[p.position] = p.error;
      const ready = pubs.filter((p): p is PreparedPub => !p.error);
      for (const chunk of chunkByExecutions(ready, max)) {
        waits.push(
          // A job that cannot be submitted or followed fails its own circuits, not the other jobs'.
          submitAndFollow(config, client, device, chunk, sessionPath).then(
            (done) => {
              for (const [k, p] of chunk.entries()) deliver(p, done[k]!);
            },
            (err: Error) => {
              for (const p of chunk) deliver(p, p.run.signal.aborted ? (p.run.signal.reason as Error) : err);
            },
          ),
        );
      }
    }
    await Promise.all(waits);
    for (const [position, parts] of sweepRows)
      if (!outcomes[position] && parts.every((r) => r !== undefined)) outcomes[position] = parts.flat();
  } catch (err) {
    return outcomes.map((o) => o ?? (err as Error));
  }
  return outcomes.map((o) => o ?? new BackendError(config.name, 'the circuit got no result from its job', true));
}

/** One circuit ready for a job: its run, its place in the caller's list, and its device QASM. */
interface PreparedPub {
  readonly run: CircuitRun;
  readonly position: number;
  readonly qasm: string;
  readonly swaps: number;
  readonly depth: number;
  /** Set for (a part of) a sweep: its PUB carries these parameter_values rows. */
  readonly sweep?: SweepPart;
  readonly error?: undefined;
}

/** Executions of a PUB: shots times its rows. */
function executionsOf(p: { run: CircuitRun; sweep?: SweepPart }): number {
  return p.run.shots * (p.sweep?.parameterValues.length ?? 1);
}

/** Chooses the device for `members` (one device for all: the batcher groups runs by device) and transpiles each. */
async function prepare(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  members: readonly { run: CircuitRun; position: number }[],
  maxExecutions: number,
): Promise<{ device: string; pubs: (PreparedPub | { run: CircuitRun; position: number; error: Error })[] }> {
  const first = members[0]!.run;
  const wanted = first.device ?? config.device ?? LEAST_BUSY;
  const needed = Math.max(...members.map((m) => m.run.circuit.numQubits));
  const device = chooseDevice(config.name, await client.listDevices(), wanted, needed);
  const configuration = await client.deviceConfiguration(device);
  if (!configuration)
    throw new BackendError(
      config.name,
      `device ${device} was listed but has no configuration on the service; try again or choose another device`,
      true,
    );
  checkQubits(config.name, device, configuration.n_qubits, needed);
  const status = await client.deviceStatus(device);
  if (status && !status.state)
    for (const m of members)
      m.run.log(
        `device ${device} is not operational (${status.status}${status.message ? `: ${status.message}` : ''}); the job waits until it is`,
      );
  const target = targetFromIbmConfiguration(configuration);
  const pubs = members.flatMap((m): (PreparedPub | { run: CircuitRun; position: number; error: Error })[] => {
    try {
      if (m.run.sweep)
        return sweepParts(m.run.sweep, target, m.run.shots, maxExecutions).map((sweep) => ({
          ...m,
          qasm: sweep.qasm,
          swaps: sweep.swaps,
          depth: sweep.depth,
          sweep,
        }));
      const mapped = transpile(m.run.circuit, target);
      const qasm = toQasm3(mapped.circuit, { physicalQubits: true });
      return [{ ...m, qasm, swaps: mapped.swaps, depth: mapped.depth }];
    } catch (err) {
      return [{ ...m, error: err as Error }];
    }
  });
  return { device, pubs };
}

/**
 * `pubs` cut into jobs of one shot count and one set of options each (the job's `shots` and
 * `options`, so PUBs stay `[circuit]`), fewest shots first, and at most `max` executions.
 */
function chunkByExecutions<T extends { run: CircuitRun; sweep?: SweepPart }>(pubs: readonly T[], max: number): T[][] {
  const kind = (p: T) => `${p.run.shots}\u0000${JSON.stringify(p.run.ibmOptions ?? {})}`;
  const byKind = [...pubs].sort((a, b) => a.run.shots - b.run.shots || kind(a).localeCompare(kind(b)));
  return chunkJobs(byKind, kind, executionsOf, max);
}

/** Submits one Sampler V2 job with one PUB per member and follows it to each member's outcome. */
async function submitAndFollow(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  device: string,
  members: readonly PreparedPub[],
  sessionPath: string | undefined,
): Promise<CircuitOutcome[]> {
  const started = performance.now();
  const { live, reports, everyRun } = liveMembers(members);
  if (live.length === 0) return members.map((m) => m.run.signal.reason as Error);
  const status = await client.deviceStatus(device);
  const first = live[0]!.run;
  // A worker reserves its own circuit's estimate before it reaches a batcher; a lone run (no batcher) reserves here.
  const circuits = live.reduce((n, m) => n + (m.sweep?.parameterValues.length ?? 1), 0);
  const estimate = await reserveIbmJob(config, live.length === 1 ? first : {}, device, circuits, first.shots);
  const options = { ...config.ibmOptions, ...first.ibmOptions };
  const { id, sessionId } = await submitInMode(
    config,
    client,
    {
      program_id: 'sampler',
      backend: device,
      params: {
        pubs: live.map((m) => (m.sweep ? [m.qasm, m.sweep.parameterValues] : [m.qasm])),
        shots: first.shots,
        version: 2,
        support_qiskit: false,
        ...(Object.keys(options).length > 0 && { options }),
      },
    },
    everyRun,
    sessionPath,
  );
  const position = status ? status.length_queue + 1 : undefined;
  const batched = live.length > 1;
  const followers = live.map((m, index) => {
    const report = reports[index]!;
    report({
      ...(m.sweep ? sweepJobInfo(m.run, m.sweep, id, index) : { jobId: id }),
      device,
      swaps: m.swaps,
      depth: m.depth,
      jobStatus: 'Queued',
      // A sweep's PUB index comes with its jobId (sweepJobInfo): a sweep cut into parts names each part's.
      ...(batched ? { ...(!m.sweep && { batchIndex: index }), batchSize: live.length } : {}),
      ...(position !== undefined ? { queuePosition: position } : {}),
    });
    m.run.log(
      `IBM Quantum job ${id} submitted to ${device}${batched ? ` (PUB ${index} of ${live.length})` : ''}${m.sweep ? ` (a sweep of ${m.sweep.parameterValues.length} bindings as one PUB${m.sweep.parts > 1 ? `, part ${m.sweep.part + 1} of ${m.sweep.parts}` : ''})` : ''} (${m.swaps} swaps, depth ${m.depth}${position !== undefined ? `, about ${position} in the queue` : ''})`,
    );
    return { run: m.run, index, report, sweep: m.sweep !== undefined };
  });
  let outcomes: CircuitOutcome[];
  try {
    ({ outcomes } = await follow(config, client, id, device, followers, position, started));
  } finally {
    await leaveSession(sessionPath, sessionId);
  }
  // The job's cost, shared by its circuits (each task records its part, so the totals add up).
  // The job's cost, shared by its circuits (each task records its part, so the totals add up);
  // a sweep cut into parts pays for each of its jobs.
  await shareJobCost(client, config, id, first, reports, live.length, estimate, (k) => {
    const m = live[k]!;
    return m.sweep && m.sweep.parts > 1 ? costSoFar(m.run) : 0;
  });
  return members.map((m) => {
    const k = live.indexOf(m);
    return k < 0 ? (m.run.signal.reason as Error) : outcomes[k]!;
  });
}

/** A run that already submitted its job (to a head that died) follows it again. */
async function followAgain(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  run: CircuitRun,
): Promise<CircuitResult | readonly CircuitResult[]> {
  if (run.sweep) return followSweepAgain(config, client, run);
  return followOneAgain(config, client, run, run.resumeJobId!, false) as Promise<CircuitResult>;
}

/** A sweep follows each of its parts' jobs again (`<job>#<pub>,...`); its rows come back in order. */
async function followSweepAgain(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  run: CircuitRun,
): Promise<readonly CircuitResult[]> {
  const parts = run.resumeJobId!.split(',');
  const rows: CircuitResult[] = [];
  for (const part of parts) rows.push(...((await followOneAgain(config, client, run, part, true)) as CircuitResult[]));
  if (rows.length !== run.sweep!.length)
    throw new BackendError(
      config.name,
      `the sweep's recorded jobs (${run.resumeJobId}) hold ${rows.length} of its ${run.sweep!.length} bindings: the head stopped before every part was submitted; run the sweep again`,
      false,
    );
  return rows;
}

async function followOneAgain(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  run: CircuitRun,
  resumeJobId: string,
  sweep: boolean,
): Promise<CircuitOutcome> {
  const started = performance.now();
  const [id, indexText] = resumeJobId.split('#');
  const index = indexText === undefined ? 0 : Number(indexText);
  const known = await client.job(id!);
  const device = known.backend ?? run.device ?? String(config.device ?? 'unknown');
  const report = reporter(run);
  report({
    jobId: id!,
    device,
    jobStatus: jobState(known),
    resumed: true,
    ...(indexText !== undefined ? { batchIndex: index } : {}),
    ...(sweep && { sweepSize: run.sweep!.length }),
    ...(sweep && run.resumeJobId!.includes(',') && { jobId: run.resumeJobId! }),
  });
  run.log(`IBM Quantum job ${id} on ${device}: followed again after a head restart (${jobState(known)})`);
  const { outcomes, pubCount } = await follow(
    config,
    client,
    id!,
    device,
    [{ run, index, report, sweep }],
    undefined,
    started,
  );
  // The job's cost share: known once its results tell how many PUBs (circuits) it carried.
  const before = sweep && run.resumeJobId!.includes(',') ? () => costSoFar(run) : undefined;
  if (pubCount !== undefined) await shareJobCost(client, config, id!, run, [report], pubCount, undefined, before);
  else if (indexText === undefined) await shareJobCost(client, config, id!, run, [report], 1, undefined, before);
  const [outcome] = outcomes;
  if (outcome instanceof Error) throw outcome;
  return outcome!;
}

/** A Sampler job's follower (`sweep`: its PUB holds one result per parameter_values row). */
type SamplerFollower = Follower & { readonly sweep?: boolean };

/** The cost a run has recorded so far (a sweep cut into parts adds each job's share). */
function costSoFar(run: CircuitRun): number {
  return (reportedInfo(run)?.costUsd as number | undefined) ?? 0;
}

/** The jobs and PUBs of each sweep cut into parts, as submitted so far (`<job>#<pub>` by part). */
const sweepJobs = new WeakMap<CircuitRun, string[]>();

/** What a sweep's task records about its job: `<job>` and its PUB, or every part's `<job>#<pub>`. */
function sweepJobInfo(run: CircuitRun, sweep: SweepPart, id: string, index: number): TaskInfo {
  const sweepSize = run.sweep?.length ?? sweep.parameterValues.length;
  if (sweep.parts === 1) return { jobId: id, batchIndex: index, sweepSize };
  const parts = sweepJobs.get(run) ?? new Array<string>(sweep.parts).fill('');
  sweepJobs.set(run, parts);
  parts[sweep.part] = `${id}#${index}`;
  return { jobId: parts.filter((p) => p !== '').join(','), sweepSize, sweepParts: sweep.parts };
}

/** Follows a Sampler job (job-follow.ts): each follower's PUB samples become Counts over its circuit's clbits (one per row for a sweep). */
function follow(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  id: string,
  device: string,
  followers: readonly SamplerFollower[],
  firstPosition: number | undefined,
  started: number,
) {
  return followJob(config, client, id, device, followers, firstPosition, 'IBM Quantum job', (f, reply: PubResults) => {
    const data = (reply.results![f.index] as { data: Parameters<typeof samplesToCounts>[1] }).data;
    const common = {
      shots: f.run.shots,
      device,
      backend: config.name,
      durationMs: performance.now() - started,
      jobId: id,
    };
    if ((f as SamplerFollower).sweep) return sweepRowResults(config.name, data as never, f.run.circuit.cregs, common);
    return { counts: samplesToCounts(config.name, data, f.run.circuit.cregs), ...common };
  });
}

/** What `orrery backends test` shows: the devices the instance reaches, their size and queue. */
export async function describeIbm(config: IbmQuantumConfig): Promise<string[]> {
  const client = await clientFor(config);
  const devices = await client.listDevices();
  const lines = [
    `IBM Quantum instance ${config.instanceCrn} at ${config.url ?? DEFAULT_IBM_URL}: ${devices.length} device(s); device choice: ${config.device ?? LEAST_BUSY}`,
  ];
  for (const d of devices)
    lines.push(`${d.name}: ${d.qubits ?? '?'} qubits, ${d.status.name}, ${d.queue_length} pending jobs`);
  return lines;
}

export async function clientFor(config: IbmQuantumConfig): Promise<RuntimeClient> {
  const apiKey = await readSecret(config.name, config.apiKeySecret, 'the IBM Quantum API key');
  const iam: IamSource = {
    backend: config.name,
    iamUrl: config.iamUrl ?? DEFAULT_IAM_URL,
    apiKey,
    secretName: config.apiKeySecret,
  };
  return new RuntimeClient({
    backend: config.name,
    url: config.url ?? DEFAULT_IBM_URL,
    instanceCrn: config.instanceCrn,
    iam,
  });
}
