/**
 * Gathers the circuit tasks of one quantum backend that become ready within a short window and
 * hands them to the backend's batch runner together, one batch per device, so the service sees
 * one job where the program had many concurrent `circuit().remote()` calls. At most
 * `maxBatchesInFlight` batches run at once; circuits arriving meanwhile wait and join the next
 * batch (the longer the queue, the larger the batch). Estimator tasks (`estimate`, on a backend
 * whose batcher was given an Estimator runner) are batched the same way but apart from circuits:
 * a batch holds one primitive, since Sampler and Estimator PUBs cannot share a job.
 */
import type { EstimatorRun, EstimatorTaskResult } from '../estimator-run.ts';
import type { CircuitResult, CircuitRun } from '../run-types.ts';

/** What one circuit of a batch ended with: its result (one per binding for a sweep), or why it has none. */
export type CircuitOutcome = CircuitResult | readonly CircuitResult[] | Error;

/** Runs circuits bound for one device; one outcome per run, in order (a backend's runner). */
export type BatchRunner = (runs: readonly CircuitRun[]) => Promise<CircuitOutcome[]>;

/** Runs Estimator tasks bound for one device; one outcome per run, in order. */
export type EstimateBatchRunner = (runs: readonly EstimatorRun[]) => Promise<(EstimatorTaskResult | Error)[]>;

/** The primitive a batch is for: its tasks share one job, so one primitive per batch. */
type Primitive = 'sampler' | 'estimator';

/** A clock port (tests may pass a fake). */
export interface BatchTimer {
  set(fn: () => void, ms: number): unknown;
}

/** How many windows a batch may stay open while circuits keep joining it. */
const MAX_WINDOWS = 8;

interface Waiting {
  readonly primitive: Primitive;
  readonly run: CircuitRun | EstimatorRun;
  resolve(r: unknown): void;
  reject(err: Error): void;
}

/** One backend's batcher. */
export class CircuitBatcher {
  /** Circuits waiting for their batch, by primitive and device ('' = the backend's default device). */
  private readonly pending = new Map<string, Waiting[]>();
  /** Devices whose window has closed and whose circuits wait only for a free batch slot. */
  private readonly due = new Set<string>();
  private inFlight = 0;
  /** Circuits that ever joined each open batch (cancelled ones included): a join re-arms its window. */
  private readonly joined = new WeakMap<Waiting[], number>();
  private estimateRunner: EstimateBatchRunner | undefined;

  constructor(
    private readonly runBatch: BatchRunner,
    private readonly windowMs: number,
    private readonly maxBatchesInFlight: number,
    private readonly timer: BatchTimer = { set: (fn, ms) => setTimeout(fn, ms) },
  ) {}

  /**
   * Runs `run` in the next batch for its device. Aborting its signal before the batch goes out
   * takes it out of the batch; after, its result is dropped (the runner cancels the job once
   * every circuit in it was aborted). A run following a known job (`resumeJobId`) goes alone.
   */
  submit(run: CircuitRun): Promise<CircuitResult> {
    return this.enqueue('sampler', run) as Promise<CircuitResult>;
  }

  /** Runs a sweep (`run.sweep`) as one unit of the next batch; resolves to one result per binding. */
  submitSweep(run: CircuitRun & { readonly sweep: readonly unknown[] }): Promise<readonly CircuitResult[]> {
    return this.enqueue('sampler', run) as Promise<readonly CircuitResult[]>;
  }

  /** Lets the batcher take Estimator tasks too, run by `runner` (one job per batch). */
  withEstimates(runner: EstimateBatchRunner): this {
    this.estimateRunner = runner;
    return this;
  }

  /** Runs Estimator task `run` in the next Estimator batch for its device (as `submit`). */
  estimate(run: EstimatorRun): Promise<EstimatorTaskResult> {
    if (!this.estimateRunner)
      return Promise.reject(new Error("this backend's batcher takes circuits only, not Estimator tasks"));
    return this.enqueue('estimator', run) as Promise<EstimatorTaskResult>;
  }

  private runnerFor(primitive: Primitive): (runs: readonly (CircuitRun | EstimatorRun)[]) => Promise<unknown[]> {
    return primitive === 'estimator'
      ? (runs) => this.estimateRunner!(runs as EstimatorRun[])
      : (runs) => this.runBatch(runs as CircuitRun[]);
  }

  private enqueue(primitive: Primitive, run: CircuitRun | EstimatorRun): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (run.signal.aborted) return reject(run.signal.reason);
      if (run.resumeJobId) {
        void this.runnerFor(primitive)([run]).then(([o]) => (o instanceof Error ? reject(o) : resolve(o!)), reject);
        return;
      }
      const key = `${primitive}\u0000${run.device ?? ''}`;
      const w: Waiting = { primitive, run, resolve, reject };
      run.signal.addEventListener(
        'abort',
        () => {
          const list = this.pending.get(key);
          const i = list?.indexOf(w) ?? -1;
          if (i >= 0) list!.splice(i, 1);
          reject(run.signal.reason);
        },
        { once: true },
      );
      let list = this.pending.get(key);
      const opens = !list;
      if (!list) {
        list = [];
        this.pending.set(key, list);
      }
      list.push(w);
      this.joined.set(list, (this.joined.get(list) ?? 0) + 1);
      if (opens) this.arm(key, list, performance.now());
    });
  }

  /**
   * The batch of `key` closes once no circuit has joined it for `windowMs`, and at the latest
   * MAX_WINDOWS windows after it opened: circuits submitted together but dispatched a little
   * apart (a loaded machine) still share a job, and a steady stream cannot hold a batch back.
   */
  private arm(key: string, list: Waiting[], opened: number): void {
    const seen = this.joined.get(list);
    this.timer.set(() => {
      if (this.pending.get(key) !== list) return;
      const waited = performance.now() - opened;
      if (this.joined.get(list) !== seen && waited < this.windowMs * (MAX_WINDOWS - 1))
        return this.arm(key, list, opened);
      this.due.add(key);
      this.pump();
    }, this.windowMs);
  }

  private pump(): void {
    for (const key of [...this.due]) {
      if (this.inFlight >= this.maxBatchesInFlight) return;
      this.due.delete(key);
      const batch = this.pending.get(key) ?? [];
      this.pending.delete(key);
      if (batch.length === 0) continue;
      this.inFlight++;
      void this.runnerFor(batch[0]!.primitive)(batch.map((w) => w.run))
        .then(
          (outcomes) =>
            batch.forEach((w, i) => {
              const o = outcomes[i];
              if (o === undefined) w.reject(new Error('the batch runner returned no outcome for this circuit'));
              else if (o instanceof Error) w.reject(o);
              else w.resolve(o);
            }),
          (err: Error) => {
            for (const w of batch) w.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
