/**
 * A circuit task's worker hands its circuit to the backend's batcher (batch-server.ts) and
 * relays what comes back: reports and log lines to the task, then its result or error.
 * Cancelling the task sends `cancel`, so the circuit leaves its batch or its result is dropped.
 *
 * When the link drops after the circuit's job was submitted (the head died; its agents outlive
 * it in service mode), the worker reconnects to the same socket, which a restarted head serves
 * again, and asks it to follow that job (`resumeJobId` = `<job id>#<index>`) rather than submit
 * the circuit a second time.
 */
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { BackendError, fromErrorInfo } from '../../../orchestrator/core/errors.ts';
import type { CircuitResult } from '../run-types.ts';
import type { EstimatorTaskResult } from '../estimator-run.ts';
import type { FromBatcher, ToBatcher } from './batch-wire.ts';

/** What the task lends the client: cancellation, task facts and its log. */
export interface BatchHooks {
  readonly signal: AbortSignal;
  report(info: Record<string, string | number | boolean>): void;
  log(line: string): void;
}

/** How long a worker whose job is known keeps trying to reach a restarted head's batcher. */
const RECONNECT_FOR_MS = 10 * 60_000;
const RECONNECT_EVERY_MS = 500;

type RunCall = Extract<ToBatcher, { type: 'run' }>;
type EstimateCall = Extract<ToBatcher, { type: 'estimate' }>;
type Result = CircuitResult | EstimatorTaskResult;

/** Sends `call` to the batcher listening on `path`; resolves to the circuit's (or Estimator task's) result. */
export async function runThroughBatcher(
  backend: string,
  path: string,
  call: RunCall,
  hooks: BatchHooks,
): Promise<CircuitResult>;
export async function runThroughBatcher(
  backend: string,
  path: string,
  call: EstimateCall,
  hooks: BatchHooks,
): Promise<EstimatorTaskResult>;
export async function runThroughBatcher(
  backend: string,
  path: string,
  call: RunCall | EstimateCall,
  hooks: BatchHooks,
): Promise<Result> {
  return exchange(backend, path, call, hooks) as Promise<Result>;
}

/** Sends a sweep (`call.sweep`: its bindings go out together, as one PUB on IBM); resolves to one result per binding. */
export function runSweepThroughBatcher(
  backend: string,
  path: string,
  call: RunCall & { readonly sweep: readonly unknown[] },
  hooks: BatchHooks,
): Promise<readonly CircuitResult[]> {
  return exchange(backend, path, call, hooks) as Promise<readonly CircuitResult[]>;
}

async function exchange(
  backend: string,
  path: string,
  call: RunCall | EstimateCall,
  hooks: BatchHooks,
): Promise<Result | readonly CircuitResult[]> {
  let job: string | undefined = call.resumeJobId;
  const info: Record<string, string | number | boolean> = {};
  const watch: BatchHooks = {
    signal: hooks.signal,
    log: hooks.log,
    report: (more) => {
      Object.assign(info, more);
      // A sweep cut into several jobs names them all as `<job>#<pub>,...` in jobId.
      if (typeof info.jobId === 'string')
        job =
          typeof info.batchIndex === 'number' && !info.jobId.includes('#')
            ? `${info.jobId}#${info.batchIndex}`
            : info.jobId;
      hooks.report(more);
    },
  };
  let lost: Error | undefined;
  const deadline = Date.now() + RECONNECT_FOR_MS;
  for (let attempt = 0; ; attempt++) {
    const outcome = await once(backend, path, job ? { ...call, resumeJobId: job } : call, watch);
    if (outcome.kind === 'done') return outcome.result;
    if (outcome.kind === 'failed') throw outcome.error;
    lost ??= outcome.error;
    // Never submitted (no job to follow), or given up: the task fails and its retries apply.
    if (!job || Date.now() > deadline || hooks.signal.aborted) throw hooks.signal.aborted ? hooks.signal.reason : lost;
    if (attempt === 0)
      hooks.log(`lost the link to the circuit batcher; following job ${job} again once the head is back`);
    await new Promise((r) => setTimeout(r, RECONNECT_EVERY_MS));
  }
}

type Outcome =
  | { kind: 'done'; result: Result | readonly CircuitResult[] }
  | { kind: 'failed'; error: Error }
  | { kind: 'lost'; error: BackendError };

/** One connection: resolves to the result, the task's error, or a lost link. */
function once(backend: string, path: string, call: RunCall | EstimateCall, hooks: BatchHooks): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    if (hooks.signal.aborted) return resolve({ kind: 'failed', error: hooks.signal.reason });
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      hooks.signal.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const socket = connect(path);
    const onAbort = () => {
      if (socket.writable) socket.write(`${JSON.stringify({ type: 'cancel' } satisfies ToBatcher)}\n`);
      finish({ kind: 'failed', error: hooks.signal.reason });
      socket.end();
    };
    hooks.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.write(`${JSON.stringify(call)}\n`));
    socket.on('error', (err) =>
      finish({
        kind: 'lost',
        error: new BackendError(
          backend,
          `lost the link to the backend's circuit batcher (${err.message}); the head may have stopped: run the task again`,
          true,
        ),
      }),
    );
    socket.on('close', () =>
      finish({
        kind: 'lost',
        error: new BackendError(
          backend,
          "the backend's circuit batcher closed the link before the circuit's result came; the head may have stopped: run the task again",
          true,
        ),
      }),
    );
    // readline passes its input's errors on as its own 'error': the socket's handler above covers them.
    createInterface({ input: socket })
      .on('error', () => {})
      .on('line', (line) => {
        const m = JSON.parse(line) as FromBatcher;
        if (m.type === 'report') hooks.report(m.info);
        else if (m.type === 'log') hooks.log(m.line);
        else if (m.type === 'result' || m.type === 'estimated') finish({ kind: 'done', result: m.result });
        else if (m.type === 'results') finish({ kind: 'done', result: m.results });
        else if (m.type === 'error') finish({ kind: 'failed', error: fromErrorInfo(m.error) });
      });
  });
}
