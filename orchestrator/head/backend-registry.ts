/**
 * Backend configs -> Backend instances. Built-in kinds are registered in one typed map;
 * `module:<package or path>` loads a third-party backend that implements the contract.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Backend } from '../../backends/types.ts';
import { LocalBackend, type LocalBackendConfig } from '../../backends/local/local-backend.ts';

/** Makes a backend from its validated-by-the-factory config. */
export type BackendFactory = (config: Record<string, unknown>) => Backend | Promise<Backend>;

/** Kinds built into Orrery. */
export type BuiltinBackendKind = 'local' | 'ssh' | 'slurm' | 'sagemaker' | 'quantum-simulator' | 'ibm-quantum' | 'braket';

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

const LOCAL_KEYS = new Set(['name', 'kind', 'numCpus', 'numGpus', 'resources', 'labels', 'objectStoreMemory']);

function checkLocal(c: Record<string, unknown>): LocalBackendConfig {
  for (const k of Object.keys(c)) if (!LOCAL_KEYS.has(k)) throw new TypeError(`backend ${String(c.name)}: unknown key ${k} for kind local; allowed: ${[...LOCAL_KEYS].join(', ')}`);
  for (const k of ['numCpus', 'numGpus'] as const) {
    if (c[k] !== undefined && (typeof c[k] !== 'number' || (c[k] as number) < 0)) throw new TypeError(`backend ${String(c.name)}: ${k} must be a number >= 0`);
  }
  const m = c.objectStoreMemory;
  if (m !== undefined && (typeof m !== 'number' || !Number.isFinite(m) || m <= 0)) throw new TypeError(`backend ${String(c.name)}: objectStoreMemory must be a number of bytes > 0`);
  return c as unknown as LocalBackendConfig;
}

/** Creates a backend from a config object (`{ name, kind, ... }`). */
export async function createBackend(config: unknown, cwd = process.cwd()): Promise<Backend> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new TypeError('a backend config must be an object with name and kind');
  const c = config as Record<string, unknown>;
  if (typeof c.name !== 'string' || c.name === '') throw new TypeError('backend config: name must be a non-empty string');
  if (typeof c.kind !== 'string' || c.kind === '') throw new TypeError(`backend ${c.name}: kind must be one of ${Object.keys(BUILTIN).join(', ')} or 'module:<package or path>'`);
  if (c.kind.startsWith('module:')) return loadModuleBackend(c.kind.slice('module:'.length), c, cwd);
  const factory = (BUILTIN as Record<string, BackendFactory>)[c.kind];
  if (!factory) throw new TypeError(`backend ${c.name}: unknown kind ${JSON.stringify(c.kind)}; use one of ${Object.keys(BUILTIN).join(', ')} or 'module:<package or path>'`);
  return factory(c);
}

async function loadModuleBackend(spec: string, config: Record<string, unknown>, cwd: string): Promise<Backend> {
  const target = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(cwd, spec)).href : spec;
  let mod: { default?: unknown; createBackend?: unknown };
  try {
    mod = (await import(target)) as typeof mod;
  } catch (err) {
    throw new Error(`backend ${String(config.name)}: cannot load module ${spec}: ${(err as Error).message}`);
  }
  const factory = (mod.createBackend ?? mod.default) as BackendFactory | undefined;
  if (typeof factory !== 'function') throw new TypeError(`backend ${String(config.name)}: module ${spec} must export createBackend(config) (or a default function) returning a Backend`);
  const backend = await factory(config);
  for (const m of ['start', 'shutdown'] as const) {
    if (typeof (backend as unknown as Record<string, unknown>)?.[m] !== 'function') throw new TypeError(`backend ${String(config.name)}: module ${spec} returned an object without ${m}(); see backends/types.ts`);
  }
  return backend;
}
