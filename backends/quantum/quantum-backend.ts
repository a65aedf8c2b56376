/**
 * The quantum backends (`quantum-simulator`, `ibm-quantum`, `braket`) as one Backend: each brings
 * a virtual node to the cluster, a local agent offering `QPU` slots (one per circuit it may run
 * at once). Circuit tasks land there by their `{ QPU: 1 }` demand; their workers either simulate
 * or submit to the service and poll (a job-style backend, as sagemaker is), reading the backend's
 * config, which holds secret names only, from the environment.
 */
import type { Backend, BackendHost, LocalNode } from '../types.ts';

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

/** A quantum service or simulator as a virtual node with `slots` QPU slots. */
export class QuantumBackend implements Backend {
  private node: LocalNode | undefined;

  constructor(
    private readonly config: QuantumBackendConfig,
    private readonly slots: number,
    private readonly describe: () => Promise<string[]>,
    private readonly keeper?: ServiceSessionKeeper,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get kind(): QuantumBackendKind {
    return this.config.kind;
  }

  async start(host: BackendHost): Promise<void> {
    const env = (await this.keeper?.start(host.durable, (line) => host.log(line))) ?? {};
    this.node = await host.startLocalAgent(
      { numCpus: 0, numGpus: 0, resources: { QPU: this.slots }, labels: { [QUANTUM_KIND_LABEL]: this.config.kind } },
      { ...env, [CIRCUIT_ENV.config]: JSON.stringify(this.config) },
      'qpu',
    );
  }

  async shutdown(): Promise<void> {
    await this.node?.kill();
    await this.keeper?.stop();
  }

  /** `orrery backends test`: what the backend reaches (device list, qubit limits). */
  check(): Promise<string[]> {
    return this.describe();
  }
}
