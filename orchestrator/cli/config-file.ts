/**
 * Finding and reading the orrery config file (backends + placement rules, JSON):
 * `--config <path>`, else `./orrery.json`, else `~/.orrery/config.json` (`$ORRERY_HOME/config.json`,
 * the file the dashboard writes its edits to). Its backends are
 * checked as it is read (names, kinds, duplicates, module paths), so a bad entry is one
 * message naming the file and the backend before anything starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkBackendConfigs } from '../head/backend-configs.ts';
import { configFileModules, type ModulePolicy } from '../head/module-backends.ts';
import { orreryHome } from '../core/runtime-dir.ts';

/** The parsed config file and where it came from. */
export interface LoadedConfig {
  readonly path: string | undefined;
  readonly backends: readonly Record<string, unknown>[];
  readonly placementRules: readonly unknown[];
  /** How its `module:` backends are loaded: relative to the file's directory. */
  readonly modules: ModulePolicy;
}

/** Candidate paths, most specific first. */
export function configCandidates(explicit?: string): string[] {
  if (explicit) return [resolve(explicit)];
  return [resolve('orrery.json'), join(orreryHome(), 'config.json')];
}

/** Loads the config (an absent default file is an empty config; an absent explicit one is an error). */
export function loadConfig(explicit?: string): LoadedConfig {
  const path = configCandidates(explicit).find((p) => existsSync(p));
  if (!path) {
    if (explicit) throw new Error(`config file ${explicit} does not exist`);
    return { path: undefined, backends: [], placementRules: [], modules: { allow: 'none', why: 'no config file was found' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`config file ${path} must hold an object { backends?, placementRules? }`);
  const { backends = [], placementRules = [] } = parsed as { backends?: unknown; placementRules?: unknown };
  if (!Array.isArray(placementRules)) throw new Error(`config file ${path}: placementRules must be an array`);
  const modules = configFileModules(path, dirname(path));
  return { path, backends: checkBackendConfigs(backends, `config file ${path}`, modules), placementRules, modules };
}
