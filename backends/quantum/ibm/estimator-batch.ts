/**
 * Runs Estimator tasks bound for one device as few Estimator V2 jobs as the per-job limits
 * allow, one PUB per task (`[circuit, observables]`, or with the task's precision as the PUB's
 * fourth entry), for the backend's batcher. Precision is per PUB, so tasks of different
 * precision share a job; `default_shots` is a job option, so tasks giving shots share a job only
 * with tasks giving the same shots (EstimatorOptions, https://quantum.cloud.ibm.com/docs/en/api/qiskit-ibm-runtime/options-estimator-options).
 * A job's executions are counted as shots (or 1/precision²) x observables per PUB, summed over
 * its PUBs, against `maxExecutionsPerJob` (https://quantum.cloud.ibm.com/docs/en/guides/job-limits).
 * Following, cancelling, failures and cost shares are job-follow.ts's, as for Sampler batches.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { EstimatorRun, EstimatorTaskResult } from '../estimator-run.ts';
import { toQasm3 } from '../qasm/index.ts';
import { targetFromIbmConfiguration, transpile } from '../transpile/index.ts';
import { DEFAULT_MAX_EXECUTIONS_PER_JOB, type IbmQuantumConfig } from './config.ts';
import { LEAST_BUSY, checkQubits, chooseDevice } from './device-choice.ts';
import {
  estimatorPub,
  readEstimatorResults,
  type EstimatorJobRequest,
  type EstimatorPubInput,
  type EstimatorResultsReply,
} from './estimator-pubs.ts';
import { IBM_SESSION_ENV, leaveSession, submitInMode } from './execution-mode.ts';
import { clientFor } from './ibm-runner.ts';
import { reserveIbmJob } from './job-cost.ts';
import { chunkJobs, followJob, jobState, liveMembers, reporter, shareJobCost, type Follower } from './job-follow.ts';
import type { RuntimeClient } from './runtime-client.ts';

/** What one Estimator task of a batch ended with. */
export type EstimateOutcome = EstimatorTaskResult | Error;

/** The service's default Estimator precision (EstimatorOptions.default_precision). */
const DEFAULT_PRECISION = 0.015625;

/** Shots one of `run`'s observables is measured with: its shots, else 1/precision² (the service's rule). */
export function estimatorShots(run: Pick<EstimatorRun, 'shots' | 'precision'>): number {
  return run.shots ?? Math.ceil(1 / (run.precision ?? DEFAULT_PRECISION) ** 2);
}

/**
 * One outcome per run, in order. A run with `resumeJobId` (`<job id>` or `<job id>#<PUB index>`)
 * follows that job instead; a job is cancelled once every task in it was aborted.
 */
export async function runIbmEstimatorBatch(
  config: IbmQuantumConfig,
  runs: readonly EstimatorRun[],
  sessionPath: string | undefined = process.env[IBM_SESSION_ENV],
): Promise<EstimateOutcome[]> {
  const outcomes: (EstimateOutcome | undefined)[] = runs.map((r) =>
    r.signal.aborted ? (r.signal.reason as Error) : undefined,
  );
  try {
    const client = await clientFor(config);
    const fresh = runs.map((run, position) => ({ run, position })).filter((m) => !outcomes[m.position]);
    const waits: Promise<unknown>[] = fresh
      .filter((m) => m.run.resumeJobId)
      .map((m) =>
        followEstimateAgain(config, client, m.run).then(
          (r) => void (outcomes[m.position] = r),
          (err: Error) => void (outcomes[m.position] = err),
        ),
      );
    const toSubmit = fresh.filter((m) => !m.run.resumeJobId);
    if (toSubmit.length > 0) {
      const { device, pubs } = await prepare(config, client, toSubmit);
      for (const p of pubs) if (p.error) outcomes[p.position] = p.error;
      const ready = pubs.filter((p): p is PreparedEstimate => !p.error);
      for (const chunk of chunkEstimates(ready, config.maxExecutionsPerJob ?? DEFAULT_MAX_EXECUTIONS_PER_JOB))
        waits.push(
          // A job that cannot be submitted or followed fails its own tasks, not the other jobs'.
          submitAndFollow(config, client, device, chunk, sessionPath).then(
            (done) => chunk.forEach((p, k) => void (outcomes[p.position] = done[k]!)),
            (err: Error) =>
              chunk.forEach(
                (p) => void (outcomes[p.position] = p.run.signal.aborted ? (p.run.signal.reason as Error) : err),
              ),
          ),
        );
    }
    await Promise.all(waits);
  } catch (err) {
    return outcomes.map((o) => o ?? (err as Error));
  }
  return outcomes.map((o) => o ?? new BackendError(config.name, 'the Estimator task got no result from its job', true));
}

/** One task ready for a job: its run, its place in the caller's list, and its PUB. */
interface PreparedEstimate {
  readonly run: EstimatorRun;
  readonly position: number;
  readonly pub: unknown[];
  readonly swaps: number;
  readonly depth: number;
  readonly error?: undefined;
}

/** Chooses one device for `members` (the batcher groups by device) and transpiles each circuit, measurements left out. */
async function prepare(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  members: readonly { run: EstimatorRun; position: number }[],
): Promise<{ device: string; pubs: (PreparedEstimate | { run: EstimatorRun; position: number; error: Error })[] }> {
  const needed = Math.max(...members.map((m) => m.run.circuit.numQubits));
  const wanted = members[0]!.run.device ?? config.device ?? LEAST_BUSY;
  const device = chooseDevice(config.name, await client.listDevices(), wanted, needed);
  const configuration = await client.deviceConfiguration(device);
  if (!configuration)
    throw new BackendError(
      config.name,
      `device ${device} was listed but has no configuration on the service; try again or choose another device`,
      true,
    );
  checkQubits(config.name, device, configuration.n_qubits, needed);
  const target = targetFromIbmConfiguration(configuration);
  const pubs = members.map((m) => {
    try {
      const unmeasured = { ...m.run.circuit, ops: m.run.circuit.ops.filter((op) => op.kind !== 'measure') };
      const mapped = transpile(unmeasured, target);
      const input: EstimatorPubInput = {
        qasm: toQasm3(mapped.circuit, { physicalQubits: true }),
        observables: m.run.observables,
        finalLayout: mapped.finalLayout,
        deviceQubits: configuration.n_qubits,
        shots: m.run.shots,
        precision: m.run.shots === undefined ? m.run.precision : undefined,
      };
      return { ...m, pub: estimatorPub(input), swaps: mapped.swaps, depth: mapped.depth };
    } catch (err) {
      return { ...m, error: err as Error };
    }
  });
  return { device, pubs };
}

/**
 * `pubs` cut into jobs of one `default_shots` each (tasks with shots by their count; tasks with a
 * precision together, whatever it is) and at most `max` executions (a lone PUB over the limit
 * still gets a job: the service names the limit).
 */
export function chunkEstimates<T extends { run: Pick<EstimatorRun, 'shots' | 'precision' | 'observables'> }>(
  pubs: readonly T[],
  max: number,
): T[][] {
  return chunkJobs(
    pubs,
    (p) => String(p.run.shots),
    (p) => estimatorShots(p.run) * p.run.observables.length,
    max,
  );
}

/** Submits one Estimator V2 job with one PUB per member and follows it to each member's outcome. */
async function submitAndFollow(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  device: string,
  members: readonly PreparedEstimate[],
  sessionPath: string | undefined,
): Promise<EstimateOutcome[]> {
  const started = performance.now();
  const { live, reports, everyRun } = liveMembers(members);
  if (live.length === 0) return members.map((m) => m.run.signal.reason as Error);
  const status = await client.deviceStatus(device);
  const first = live[0]!.run;
  // A worker reserves its own task's estimate before it reaches a batcher; a lone run (no batcher) reserves here.
  const shots = Math.max(...live.map((m) => estimatorShots(m.run)));
  const estimate = await reserveIbmJob(config, live.length === 1 ? first : {}, device, live.length, shots);
  const body: EstimatorJobRequest = {
    program_id: 'estimator',
    backend: device,
    params: {
      pubs: live.map((m) => m.pub),
      version: 2,
      support_qiskit: false,
      ...(first.shots !== undefined && { options: { default_shots: first.shots } }),
    },
  };
  const { id, sessionId } = await submitInMode(config, client, body, everyRun, sessionPath);
  const position = status ? status.length_queue + 1 : undefined;
  const batched = live.length > 1;
  const followers: Follower<EstimatorRun>[] = live.map((m, index) => {
    const report = reports[index]!;
    report({
      jobId: id,
      device,
      program: 'estimator',
      swaps: m.swaps,
      depth: m.depth,
      jobStatus: 'Queued',
      ...(batched ? { batchIndex: index, batchSize: live.length } : {}),
      ...(position !== undefined ? { queuePosition: position } : {}),
    });
    m.run.log(
      `IBM Quantum Estimator job ${id} submitted to ${device}${batched ? ` (PUB ${index} of ${live.length})` : ''} (${m.run.observables.length} observable(s), ${m.swaps} swaps, depth ${m.depth})`,
    );
    return { run: m.run, index, report };
  });
  let outcomes: EstimateOutcome[];
  try {
    ({ outcomes } = await follow(config, client, id, device, followers, position, started));
  } finally {
    await leaveSession(sessionPath, sessionId);
  }
  await shareJobCost(client, config, id, first, reports, live.length, estimate);
  return members.map((m) => {
    const k = live.indexOf(m);
    return k < 0 ? (m.run.signal.reason as Error) : outcomes[k]!;
  });
}

/** A task that already submitted its job (to a head that died) follows it again: `<job>#<PUB>`. */
async function followEstimateAgain(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  run: EstimatorRun,
): Promise<EstimatorTaskResult> {
  const started = performance.now();
  const [id, indexText] = run.resumeJobId!.split('#');
  const index = indexText === undefined ? 0 : Number(indexText);
  const known = await client.job(id!);
  const device = known.backend ?? run.device ?? String(config.device ?? 'unknown');
  const report = reporter(run);
  report({
    jobId: id!,
    device,
    program: 'estimator',
    jobStatus: jobState(known),
    resumed: true,
    ...(indexText !== undefined ? { batchIndex: index } : {}),
  });
  run.log(`IBM Quantum Estimator job ${id} on ${device}: followed again after a head restart (${jobState(known)})`);
  const { outcomes, pubCount } = await follow(
    config,
    client,
    id!,
    device,
    [{ run, index, report }],
    undefined,
    started,
  );
  if (pubCount !== undefined || indexText === undefined)
    await shareJobCost(client, config, id!, run, [report], pubCount ?? 1, undefined);
  const [outcome] = outcomes;
  if (outcome instanceof Error) throw outcome;
  return outcome!;
}

/** Follows an Estimator job (job-follow.ts): each follower's PUB evs and stds become its result. */
function follow(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  id: string,
  device: string,
  followers: readonly Follower<EstimatorRun>[],
  firstPosition: number | undefined,
  started: number,
) {
  return followJob(config, client, id, device, followers, firstPosition, 'IBM Quantum Estimator job', (f, reply) => ({
    ...readEstimatorResults(config.name, id, reply as EstimatorResultsReply, f.run.observables.length, f.index),
    device,
    backend: config.name,
    durationMs: performance.now() - started,
    jobIds: [id],
  }));
}
