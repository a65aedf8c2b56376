/**
 * Backend configs checked where they enter (a config file, `init()` options, a driver's
 * request, the dashboard), before anything starts or is imported: each is an object with a
 * valid, unique name, a kind that exists (a built-in one, or a `module:` spec its source may
 * use), and valid names as its `resources` and `labels` keys. The kind's own validator checks
 * the rest when the backend is made (backend-registry.ts).
 */
import { checkName, checkNameKeys } from '../core/names.ts';
import { moduleKindHint, moduleTarget, type ModulePolicy } from './module-backends.ts';

/** Kinds built into Orrery. */
export type BuiltinBackendKind =
  | 'local'
  | 'ssh'
  | 'slurm'
  | 'sagemaker'
  | 'quantum-simulator'
  | 'ibm-quantum'
  | 'braket';

/** The built-in kinds, in the order messages list them. */
export const BUILTIN_BACKEND_KINDS: readonly BuiltinBackendKind[] = [
  'local',
  'ssh',
  'slurm',
  'sagemaker',
  'quantum-simulator',
  'ibm-quantum',
  'braket',
];

/** A config's name and kind once checked. */
export interface CheckedBackendConfig {
  readonly name: string;
  /** A built-in kind, or the spec after `module:`. */
  readonly kind: { readonly builtin: BuiltinBackendKind } | { readonly module: string };
}

/** True when `kind` is a built-in kind (an own entry of the list: `constructor` is not a kind). */
export function isBuiltinKind(kind: string): kind is BuiltinBackendKind {
  return (BUILTIN_BACKEND_KINDS as readonly string[]).includes(kind);
}

/**
 * Checks one backend config; `nameField` is how its name is called in messages.
 *
 * @throws InvalidNameError for a bad name or resource/label key, ModuleBackendRefusedError for
 * a module its source may not load, TypeError for anything else.
 */
export function checkBackendConfig(
  config: unknown,
  modules: ModulePolicy,
  nameField = 'backend name',
): CheckedBackendConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new TypeError('a backend config must be an object { name, kind, ... }');
  const c = config as Record<string, unknown>;
  const name = checkName(nameField, c.name);
  const kinds = `use one of ${BUILTIN_BACKEND_KINDS.join(', ')}${modules.allow === 'none' ? '' : ` or ${moduleKindHint(modules)}`}`;
  if (typeof c.kind !== 'string' || c.kind === '')
    throw new TypeError(`backend ${name}: kind must be a non-empty string; ${kinds}`);
  checkNameKeys(`backend ${name}: resources`, c.resources);
  checkNameKeys(`backend ${name}: labels`, c.labels);
  const budget = c.budgetUsd;
  if (budget !== undefined && (typeof budget !== 'number' || !Number.isFinite(budget) || budget < 0))
    throw new TypeError(
      `backend ${name}: budgetUsd must be a number of US dollars >= 0, the most its paid jobs may cost in this session (got ${JSON.stringify(budget)})`,
    );
  if (c.kind.startsWith('module:')) {
    const spec = c.kind.slice('module:'.length);
    moduleTarget(spec, modules, name);
    return { name, kind: { module: spec } };
  }
  if (!isBuiltinKind(c.kind)) throw new TypeError(`backend ${name}: unknown kind ${JSON.stringify(c.kind)}; ${kinds}`);
  return { name, kind: { builtin: c.kind } };
}

/**
 * Checks a list of backend configs as it is read: every entry as {@link checkBackendConfig},
 * and no name twice. Messages start with `where` (`config file /x/orrery.json`, `init()`);
 * entries are called `${list}[i]` (`backends[2]`, `option backends[2]`).
 */
export function checkBackendConfigs(
  configs: unknown,
  where: string,
  modules: ModulePolicy,
  list = 'backends',
): Record<string, unknown>[] {
  if (!Array.isArray(configs)) throw new TypeError(`${where}: ${list} must be an array of backend configs`);
  const seen = new Map<string, number>();
  configs.forEach((config, i) => {
    const entry = `${list}[${i}]`;
    const { name } = inContext(where, entry, () => checkBackendConfig(config, modules, `${where}: ${entry}.name`));
    const first = seen.get(name);
    if (first !== undefined)
      throw new TypeError(
        `${where}: ${entry}: a backend named ${JSON.stringify(name)} is already listed (${list}[${first}]); backend names must be unique`,
      );
    seen.set(name, i);
  });
  return configs as Record<string, unknown>[];
}

/** Runs `check`; its error's message gets `where` (and the entry, for a config that is not an object) in front, keeping the error's class. */
function inContext<T>(where: string, entry: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith(`${where}: `)) {
      err.message = `${where}: ${err.message.startsWith('a backend config') ? `${entry}: ` : ''}${err.message}`;
    }
    throw err;
  }
}
