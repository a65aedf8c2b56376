/**
 * Backend configs -> Backend instances. Built-in kinds are registered in one typed map;
 * `module:<package or path>` loads a third-party backend that implements the contract, when
 * the config's source may load code (module-backends.ts).
 */
import { transferConfigProblem } from '../protocol/agent-spec.ts';
import type { Backend } from '../../backends/types.ts';
import { LocalBackend, type LocalBackendConfig } from '../../backends/local/local-backend.ts';
import { checkBackendConfig, type BuiltinBackendKind } from './backend-configs.ts';
import { setBackendBudget } from './backend-budgets.ts';
import { loadModuleBackend, type ModulePolicy } from './module-backends.ts';

export type { BuiltinBackendKind } from './backend-configs.ts';

/** Makes a backend from its validated-by-the-factory config. */
export type BackendFactory = (config: Record<string, unknown>) => Backend | Promise<Backend>;

// Loaded on first use: ssh2 and the AWS SDK are large, and every driver and worker imports the
// API (which can make a head), so only a head that uses such a backend pays for loading it.
const BUILTIN = {
  local: (c) => new LocalBackend(checkLocal(c)),
  ssh: async (c) => (await import('../../backends/ssh/index.ts')).createSshBackend(c),
  slurm: async (c) => (await import('../../backends/slurm/index.ts')).createSlurmBackend(c),
  sagemaker: async (c) => (await import('../../backends/sagemaker/index.ts')).createSageMakerBackend(c),
  'quantum-simulator': async (c) => (await import('../../backends/quantum/index.ts')).createSimulatorBackend(c),
  'ibm-quantum': async (c) => (await import('../../backends/quantum/index.ts')).createIbmQuantumBackend(c),
  braket: async (c) => (await import('../../backends/quantum/index.ts')).createBraketBackend(c),
} satisfies Record<BuiltinBackendKind, BackendFactory>;

const LOCAL_KEYS = new Set([
  'name',
  'kind',
  'numCpus',
  'numGpus',
  'resources',
  'labels',
  'objectStoreMemory',
  'objectTransfer',
  'transferBind',
]);

function checkLocal(c: Record<string, unknown>): LocalBackendConfig {
  for (const k of Object.keys(c))
    if (!LOCAL_KEYS.has(k))
      throw new TypeError(
        `backend ${String(c.name)}: unknown key ${k} for kind local; allowed: ${[...LOCAL_KEYS].join(', ')}`,
      );
  for (const k of ['numCpus', 'numGpus'] as const) {
    if (c[k] !== undefined && (typeof c[k] !== 'number' || (c[k] as number) < 0))
      throw new TypeError(`backend ${String(c.name)}: ${k} must be a number >= 0`);
  }
  const m = c.objectStoreMemory;
  if (m !== undefined && (typeof m !== 'number' || !Number.isFinite(m) || m <= 0))
    throw new TypeError(`backend ${String(c.name)}: objectStoreMemory must be a number of bytes > 0`);
  const transferProblem = transferConfigProblem(c);
  if (transferProblem) throw new TypeError(`backend ${String(c.name)}: ${transferProblem}`);
  return c as unknown as LocalBackendConfig;
}

/** Module backends are refused unless the caller says where its config came from. */
const NO_MODULES: ModulePolicy = {
  allow: 'none',
  why: "this config did not come from a config file or the driver's own init({ backends })",
};

/**
 * Creates a backend from a config object (`{ name, kind, ... }`); `modules` says whether (and
 * from where) its source may load a `module:` backend.
 */
export async function createBackend(config: unknown, modules: ModulePolicy = NO_MODULES): Promise<Backend> {
  const checked = checkBackendConfig(config, modules);
  // `budgetUsd` is the head's to enforce (control/spend-ledger.ts), not a key of any kind.
  const { budgetUsd, ...c } = config as Record<string, unknown>;
  const backend =
    'module' in checked.kind
      ? await loadModuleBackend(checked.kind.module, c, modules)
      : await BUILTIN[checked.kind.builtin](c);
  if (typeof budgetUsd === 'number') setBackendBudget(backend, budgetUsd);
  return backend;
}

/**
 * What the public API takes from built-in backends (it reaches them only through this file):
 * `circuit().remote()` parses its program on the driver, so a bad one throws QasmError before
 * anything is submitted, and the types of a circuit task's argument and result.
 */
export { parseQasm, QasmError } from '../../backends/quantum/qasm/index.ts';
export { checkIbmPrimitiveOptions, type IbmPrimitiveOptions } from '../../backends/quantum/ibm/primitive-options.ts';
export { checkBraketOptions, type BraketOptions } from '../../backends/quantum/braket/device-parameters.ts';
export type { CircuitCall } from '../../backends/quantum/circuit-task.ts';
export type { CircuitResult } from '../../backends/quantum/run-types.ts';
/** `estimator().remote()` checks its observables on the driver the same way. */
export { parseObservables, type ObservableSpec } from '../../backends/quantum/observables.ts';
export type { EstimatorCall } from '../../backends/quantum/estimator-task.ts';
export type { EstimatorTaskResult } from '../../backends/quantum/estimator-run.ts';
