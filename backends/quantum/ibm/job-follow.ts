/**
 * Following one Qiskit Runtime job that carries one PUB per task, for either primitive (Sampler
 * circuits in ibm-runner.ts, Estimator tasks in estimator-batch.ts): poll it to a final state
 * (reporting its status and estimated queue position to each task), cancel it once every task in
 * it was aborted, turn a failed or cancelled job into each task's error with the service's
 * message, read each task's PUB result, and share the job's cost out among its tasks.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { CircuitRun, TaskInfo } from '../run-types.ts';
import { DEFAULT_POLL_INTERVAL_MS, type IbmQuantumConfig } from './config.ts';
import { abortableSleep } from './http-retry.ts';
import { reportIbmCost } from './job-cost.ts';
import type { RuntimeClient } from './runtime-client.ts';
import type { JobReply } from './runtime-wire.ts';
import type { IbmCost } from './usage-cost.ts';

const FINAL = new Set(['Completed', 'Failed', 'Cancelled', 'Cancelled - Ran too long']);

/** What following a job needs of a task: its cancellation and its log. */
export type FollowedRun = Pick<CircuitRun, 'signal' | 'log'>;

/** One task waiting on a job: its PUB index and its reporter. */
export interface Follower<R extends FollowedRun = CircuitRun> {
  readonly run: R;
  readonly index: number;
  readonly report: (more: TaskInfo) => void;
}

/** A job's `GET /v1/jobs/{id}/results` reply: one entry per PUB. */
export interface PubResults {
  readonly results?: readonly unknown[];
}

/** What a followed job ended with: each follower's outcome, and the job's PUB count when its results were read. */
export interface Followed<T> {
  readonly outcomes: (T | Error)[];
  readonly pubCount?: number;
}

/**
 * Polls job `id` until it is final and turns PUB `f.index` of its results into each follower's
 * outcome with `read` (which may throw). The job is cancelled once every follower was aborted;
 * an aborted follower's outcome is its reason. `label` names the job in messages
 * (`IBM Quantum job`, `IBM Quantum Estimator job`).
 */
export async function followJob<R extends FollowedRun, T>(
  config: IbmQuantumConfig,
  client: RuntimeClient,
  id: string,
  device: string,
  followers: readonly Follower<R>[],
  firstPosition: number | undefined,
  label: string,
  read: (f: Follower<R>, reply: PubResults) => T,
): Promise<Followed<T>> {
  const everyone = allAborted(followers.map((f) => f.run.signal));
  let position = firstPosition;
  let last = '';
  let job: JobReply;
  try {
    job = await pollUntilFinal(client, id, config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, everyone, async (j) => {
      const state = jobState(j);
      const live = followers.filter((f) => !f.run.signal.aborted);
      if (state !== last) {
        last = state;
        for (const f of live) {
          f.run.log(`${label} ${id}: ${state}`);
          f.report({ jobStatus: state });
        }
      }
      let next = position;
      if (state !== 'Queued' && position !== undefined) next = 0;
      else if (state === 'Queued' && position !== undefined) {
        const now = await client.deviceStatus(device);
        next = now ? Math.max(1, Math.min(position, now.length_queue)) : position;
      }
      if (next !== position) {
        position = next;
        for (const f of live) f.report({ queuePosition: next! });
      }
    });
  } catch (err) {
    if (!everyone.aborted) throw err;
    await cancelQuietly(client, id, followers[0]!.run);
    return { outcomes: followers.map((f) => f.run.signal.reason as Error) };
  }
  const state = jobState(job);
  const fail = (message: string, retryable: boolean) => ({
    outcomes: followers.map((f) =>
      f.run.signal.aborted ? (f.run.signal.reason as Error) : new BackendError(config.name, message, retryable),
    ),
  });
  if (state === 'Failed') {
    const s = job.state;
    const code = s.reason_code !== undefined ? ` (error code ${s.reason_code})` : '';
    return fail(
      `${label} ${id} on ${device} failed: ${s.reason ?? 'no reason given'}${code}${s.reason_solution ? `. ${s.reason_solution}` : ''}`,
      false,
    );
  }
  if (state !== 'Completed')
    return fail(
      `${label} ${id} on ${device} was cancelled on the service (${job.state.reason ?? state}); run the task again`,
      false,
    );
  const reply = (await client.results(id)) as unknown as PubResults;
  const outcomes = followers.map((f) => {
    if (f.run.signal.aborted) return f.run.signal.reason as Error;
    if (!reply.results?.[f.index])
      return new BackendError(
        config.name,
        `${label} ${id} completed without results for PUB ${f.index}; fetch them later with GET /v1/jobs/${id}/results or run the task again`,
        true,
      );
    try {
      const outcome = read(f, reply);
      f.run.log(`${label} ${id} completed on ${device}`);
      return outcome;
    } catch (err) {
      return err as Error;
    }
  });
  return { outcomes, pubCount: reply.results?.length };
}

/**
 * Records job `id`'s cost on its tasks: each reporter gets its share (`costUsd` = the job's cost
 * / `pubCount`, added to `before(k)`: what task k paid for earlier jobs), and with more than one
 * PUB the whole job's cost as `costOfJobUsd`, so the tasks' costs add up to the job's.
 */
export async function shareJobCost(
  client: RuntimeClient,
  config: IbmQuantumConfig,
  id: string,
  run: Pick<CircuitRun, 'log'>,
  reports: readonly ((info: TaskInfo) => void)[],
  pubCount: number,
  estimate: IbmCost | undefined,
  before: (k: number) => number = () => 0,
): Promise<void> {
  let cost: TaskInfo | undefined;
  await reportIbmCost(client, config, id, run, (info) => (cost = info), estimate);
  if (!cost) return;
  const part = (cost.costUsd as number) / pubCount;
  const whole = cost.costUsd as number;
  for (const [k, r] of reports.entries())
    r({ ...cost, costUsd: before(k) + part, ...(pubCount > 1 && { costOfJobUsd: whole }) });
}

/**
 * `pubs` cut into jobs: one kind each (`kindOf`: what must be the same in one job, such as its
 * shots and options), in the order the kinds first appear, and at most `max` executions each
 * (`executionsOf` a PUB's); a lone PUB over the limit still gets a job: the service names the limit.
 */
export function chunkJobs<T>(
  pubs: readonly T[],
  kindOf: (p: T) => string,
  executionsOf: (p: T) => number,
  max: number,
): T[][] {
  const byKind = new Map<string, T[]>();
  for (const p of pubs) {
    const k = kindOf(p);
    const list = byKind.get(k);
    if (list) list.push(p);
    else byKind.set(k, [p]);
  }
  const chunks: T[][] = [];
  for (const list of byKind.values()) {
    let current: T[] = [];
    let executions = 0;
    for (const p of list) {
      const n = executionsOf(p);
      if (current.length > 0 && executions + n > max) {
        chunks.push(current);
        current = [];
        executions = 0;
      }
      current.push(p);
      executions += n;
    }
    if (current.length > 0) chunks.push(current);
  }
  return chunks;
}

/**
 * The members of a job about to be submitted that are still wanted (not aborted), a reporter
 * each, and `everyRun`, whose log and report reach all of them (for what the job as a whole does).
 */
export function liveMembers<M extends { readonly run: Pick<CircuitRun, 'signal' | 'log' | 'report'> }>(
  members: readonly M[],
): { live: M[]; reports: ((info: TaskInfo) => void)[]; everyRun: Pick<CircuitRun, 'log' | 'report'> } {
  const live = members.filter((m) => !m.run.signal.aborted);
  const reports = live.map((m) => reporter(m.run));
  const everyRun = {
    log: (line: string) => {
      for (const m of live) m.run.log(line);
    },
    report: (info: TaskInfo) => {
      for (const r of reports) r(info);
    },
  };
  return { live, reports, everyRun };
}

/** Each task's accumulated info (a sweep cut into parts reports from several jobs). */
const runInfo = new WeakMap<object, TaskInfo>();

/** What `run` has reported through its reporters so far. */
export function reportedInfo(run: object): Readonly<TaskInfo> | undefined {
  return runInfo.get(run);
}

/** Per-task reporting: each task keeps its own accumulated info, across the jobs it waits on. */
export function reporter(run: Pick<CircuitRun, 'report'>): (more: TaskInfo) => void {
  const info: TaskInfo = runInfo.get(run) ?? {};
  runInfo.set(run, info);
  return (more) => {
    Object.assign(info, more);
    run.report({ ...info });
  };
}

/** A signal aborted once every one of `signals` is. */
export function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const all = new AbortController();
  const check = () => {
    if (signals.every((s) => s.aborted)) all.abort(signals[0]!.reason);
  };
  for (const s of signals) s.addEventListener('abort', check, { once: true });
  check();
  return all.signal;
}

/**
 * Polls until the job is final. The wait starts at `firstMs` and grows by half each poll up to
 * 16 times that (at most 30 s), since most of a job's life is spent queued.
 */
export async function pollUntilFinal(
  client: RuntimeClient,
  id: string,
  firstMs: number,
  signal: AbortSignal,
  onState: (j: JobReply) => Promise<void>,
): Promise<JobReply> {
  const cap = Math.max(firstMs, Math.min(30_000, firstMs * 16));
  for (let wait = firstMs; ; wait = Math.min(cap, wait * 1.5)) {
    await abortableSleep(wait, signal);
    const job = await client.job(id);
    throwIfAborted(signal);
    await onState(job);
    if (FINAL.has(jobState(job))) return job;
  }
}

export async function cancelQuietly(client: RuntimeClient, id: string, run: Pick<CircuitRun, 'log'>): Promise<void> {
  try {
    const cancelled = await client.cancel(id);
    run.log(
      cancelled
        ? `IBM Quantum job ${id} cancelled`
        : `IBM Quantum job ${id} had already finished when the task was cancelled`,
    );
  } catch (err) {
    run.log(`could not cancel IBM Quantum job ${id}: ${(err as Error).message}; cancel it on IBM Quantum Platform`);
  }
}

export function jobState(job: JobReply): string {
  return job.state?.status ?? job.status;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}
