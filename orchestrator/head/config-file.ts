/**
 * The orrery config file: JSON `{ backends?, placementRules?, savedBackends?, agentGrace?, head? }`, where comments (`//`, `/* *\/`)
 * and trailing commas are allowed (JSONC, core/jsonc.ts), so a generated config (`orrery
 * init`) can carry commented-out examples. One reader, one rule set, for
 * every place that reads it: `init({ config })`, the CLI (`orrery start`, `orrery dashboard`,
 * `orrery backends`, which also look for a default file) and the dashboard, which writes its
 * edits back (service/dashboard-config-file.ts) after reading the document here. The file must
 * hold an object with only those keys; its backends are checked as backend-configs.ts checks
 * them (names, kinds, duplicates, `module:` paths relative to the file) and its placement rules
 * are validated, so a bad entry is one message naming the file and the entry before anything
 * starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '../core/duration.ts';
import { parseJsonc } from '../core/jsonc.ts';
import { orreryHome } from '../core/runtime-dir.ts';
import { validatePlacementRules, type PlacementRule } from '../scheduler/placement-rules.ts';
import { checkBackendConfigs } from './backend-configs.ts';
import { configFileModules, type ModulePolicy } from './module-backends.ts';

/** The keys a config file may have. */
export const CONFIG_KEYS: readonly string[] = ['backends', 'placementRules', 'savedBackends', 'agentGrace', 'head'];

/** A config file once read and checked (or the empty config when none was found). */
export interface ConfigFile {
  /** Absolute path of the file; undefined when no file was found. */
  readonly path: string | undefined;
  readonly backends: readonly Record<string, unknown>[];
  /**
   * Names of backends in `backends` saved without starting (the dashboard's "Save without
   * starting", its host perhaps offline): `orrery start` keeps them saved, not started, until
   * the dashboard's Start (POST /api/backends/:name/start) starts them.
   */
  readonly savedBackends: readonly string[];
  /** Validated rules; undefined when the file gives none. */
  readonly placementRules: PlacementRule[] | undefined;
  /** How its `module:` backends load: relative to the file's directory. */
  readonly modules: ModulePolicy;
  /** `agentGrace` in seconds: how long a service head's agents keep running without a head. */
  readonly agentGraceS?: number;
  /** `head`: where `orrery start --on` runs the head and how it logs in there (checked by orchestrator/remote-head/). */
  readonly head?: Readonly<Record<string, unknown>>;
}

/** Candidate paths, most specific first: `explicit`, else `./orrery.json`, else `~/.orrery/config.json` (`$ORRERY_HOME`), the file the dashboard writes to. */
export function configCandidates(explicit?: string): string[] {
  if (explicit) return [resolve(explicit)];
  return [resolve('orrery.json'), join(orreryHome(), 'config.json')];
}

/**
 * The file's JSON document, checked for its shape only (an object with known keys), or
 * undefined when the file does not exist. `prefix` starts every message (e.g. `init(): `).
 *
 * @throws Error when the file cannot be read or is not JSON(C), naming the line and column; TypeError for another shape.
 */
export function readConfigDocument(path: string, prefix = ''): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${prefix}cannot read config file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseJsonc(text);
  } catch (err) {
    throw new Error(
      `${prefix}config file ${path} is not valid JSON (comments and trailing commas are allowed): ${(err as Error).message}`,
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new TypeError(`${prefix}config file ${path} must hold an object { backends?, placementRules? }`);
  for (const k of Object.keys(doc)) {
    if (!CONFIG_KEYS.includes(k))
      throw new TypeError(`${prefix}config file ${path} has unknown key ${k}; allowed: ${CONFIG_KEYS.join(', ')}`);
  }
  return doc as Record<string, unknown>;
}

/**
 * Reads and checks the config file at `path` (which must exist). `prefix` starts every
 * message (e.g. `init(): `); each names the file.
 *
 * @throws as readConfigDocument; InvalidNameError, ModuleBackendRefusedError or TypeError for a
 * bad backend; InvalidPlacementRuleError for a bad rule.
 */
export function readConfigFile(path: string, prefix = ''): ConfigFile {
  const file = resolve(path);
  const doc = readConfigDocument(file, prefix);
  if (doc === undefined) throw new Error(`${prefix}cannot read config file ${file}: it does not exist`);
  const where = `${prefix}config file ${file}`;
  const modules = configFileModules(file, dirname(file));
  const backends = checkBackendConfigs(doc.backends ?? [], where, modules);
  const savedBackends = checkSavedBackends(doc.savedBackends ?? [], backends, where);
  let placementRules: PlacementRule[] | undefined;
  try {
    placementRules = doc.placementRules === undefined ? undefined : validatePlacementRules(doc.placementRules);
  } catch (err) {
    (err as Error).message = `${where}: ${(err as Error).message}`;
    throw err;
  }
  const agentGraceS = doc.agentGrace === undefined ? undefined : parseDuration(doc.agentGrace, `${where}: agentGrace`);
  const head = doc.head;
  if (head !== undefined && (typeof head !== 'object' || head === null || Array.isArray(head)))
    throw new TypeError(`${where}: head must be an object { host, identityFile?, knownHostsFile?, ... }`);
  return {
    ...(head !== undefined && { head: head as Record<string, unknown> }),
    path: file,
    backends,
    savedBackends,
    placementRules,
    modules,
    ...(agentGraceS !== undefined && { agentGraceS }),
  };
}

/** `savedBackends`: an array of names, each of a backend the file lists. */
function checkSavedBackends(saved: unknown, backends: readonly Record<string, unknown>[], where: string): string[] {
  if (!Array.isArray(saved) || saved.some((n) => typeof n !== 'string'))
    throw new TypeError(`${where}: savedBackends must be an array of backend names (those saved without starting)`);
  for (const [i, name] of (saved as string[]).entries()) {
    if (!backends.some((b) => b.name === name))
      throw new TypeError(
        `${where}: savedBackends[${i}] names ${JSON.stringify(name)}, which is not in backends; remove it from savedBackends or add the backend`,
      );
  }
  return saved as string[];
}

/** The backends to start: all of the file's but those saved without starting. */
export function backendsToStart(cfg: Pick<ConfigFile, 'backends' | 'savedBackends'>): Record<string, unknown>[] {
  return cfg.backends.filter((b) => !cfg.savedBackends.includes(b.name as string));
}

/** The CLI's config: `explicit` (which must exist), else the first default candidate that exists, else the empty config. */
export function findConfig(explicit?: string): ConfigFile {
  if (explicit) return readConfigFile(explicit);
  const path = configCandidates().find((p) => existsSync(p));
  if (path) return readConfigFile(path);
  return {
    path: undefined,
    backends: [],
    savedBackends: [],
    placementRules: undefined,
    modules: { allow: 'none', why: 'no config file was found' },
  };
}
