/**
 * The quantum backends (`quantum-simulator`, `ibm-quantum`, `braket`) as one Backend: each brings
 * a virtual node to the cluster, a local agent offering `QPU` slots (one per circuit it may run
 * at once). Circuit tasks land there by their `{ QPU: 1 }` demand; their workers either simulate
 * or submit to the service and poll (a job-style backend, as sagemaker is), reading the backend's
 * config, which holds secret names only, from the environment.
 */
import type { Backend, BackendHost, LocalNode } from '../types.ts';
import { BATCHER_SOCKET_ENV } from './batching/batch-wire.ts';
import { startBatchServer, type BatchServer } from './batching/batch-server.ts';
import { CircuitBatcher, type BatchRunner, type EstimateBatchRunner } from './batching/circuit-batcher.ts';

/** Kinds of quantum backend. */
export type QuantumBackendKind = 'quantum-simulator' | 'ibm-quantum' | 'braket';

/** A validated quantum backend config (the per-kind fields live in each kind's config module). */
export interface QuantumBackendConfig {
  readonly name: string;
  readonly kind: QuantumBackendKind;
  readonly [key: string]: unknown;
}

/** Node label carrying the quantum backend kind (placement rules and label selectors can use it). */
export const QUANTUM_KIND_LABEL = 'orrery.io/quantum';

/** The environment variable a circuit task's worker reads its backend's config from. */
export const CIRCUIT_ENV = { config: 'ORRERY_CIRCUIT_BACKEND' } as const;

/**
 * What a service keeps open across its jobs (IBM batches and sessions): started before the
 * node, whose workers get the environment it returns; stopped after the node at shutdown.
 */
export interface ServiceSessionKeeper {
  start(
    durable: { readonly runDir: string; readonly reattach: boolean } | undefined,
    log: (line: string) => void,
  ): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * How a job-style backend batches its circuit tasks: ready circuits are gathered for `windowMs`
 * and run `runner` together, at most `maxBatchesInFlight` batches (jobs) at once. The runner gets
 * the environment the node's workers get (a session keeper's session file, for one).
 */
export interface QuantumBatching {
  readonly windowMs: number;
  readonly maxBatchesInFlight: number;
  readonly runner: (runs: Parameters<BatchRunner>[0], env: Readonly<Record<string, string>>) => ReturnType<BatchRunner>;
  /** Runs a batch of Estimator tasks (one job); without it Estimator tasks are not batched. */
  readonly estimateRunner?: (
    runs: Parameters<EstimateBatchRunner>[0],
    env: Readonly<Record<string, string>>,
  ) => ReturnType<EstimateBatchRunner>;
}

/**
 * A quantum service or simulator as a virtual node with `slots` QPU slots. With `batching`, the
 * node's workers hand their circuits to a batcher in this process (batching/batch-server.ts).
 */
export class QuantumBackend implements Backend {
  private node: LocalNode | undefined;
  private batchServer: BatchServer | undefined;

  constructor(
    private readonly config: QuantumBackendConfig,
    private readonly slots: number,
    private readonly describe: () => Promise<string[]>,
    private readonly keeper?: ServiceSessionKeeper,
    private readonly batching?: QuantumBatching,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get kind(): QuantumBackendKind {
    return this.config.kind;
  }

  async start(host: BackendHost): Promise<void> {
    const env: Record<string, string> = {
      ...((await this.keeper?.start(host.durable, (line) => host.log(line))) ?? {}),
      [CIRCUIT_ENV.config]: JSON.stringify(this.config),
    };
    if (this.batching) {
      const { runner, estimateRunner, windowMs, maxBatchesInFlight } = this.batching;
      const batcher = new CircuitBatcher((runs) => runner(runs, env), windowMs, maxBatchesInFlight);
      if (estimateRunner) batcher.withEstimates((runs) => estimateRunner(runs, env));
      this.batchServer = await startBatchServer(this.config.name, batcher, host.durable?.runDir);
      env[BATCHER_SOCKET_ENV] = this.batchServer.path;
    }
    this.node = await host.startLocalAgent(
      {
        numCpus: 0,
        numGpus: 0,
        resources: { QPU: this.slots },
        labels: { [QUANTUM_KIND_LABEL]: this.config.kind },
        // Batched circuit tasks wait on the service together: one process holds them all.
        ...(this.batching ? { sharedWorker: true } : {}),
      },
      env,
      'qpu',
    );
  }

  async shutdown(): Promise<void> {
    await this.node?.kill();
    await this.batchServer?.close();
    await this.keeper?.stop();
  }

  /** `orrery backends test`: what the backend reaches (device list, qubit limits). */
  check(): Promise<string[]> {
    return this.describe();
  }
}
