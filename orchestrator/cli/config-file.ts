/**
 * Finding and reading the orrery config file (backends + placement rules, JSON):
 * `--config <path>`, else `./orrery.json`, else `~/.orrery/config.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The parsed config file and where it came from. */
export interface LoadedConfig {
  readonly path: string | undefined;
  readonly backends: readonly Record<string, unknown>[];
  readonly placementRules: readonly unknown[];
}

/** Candidate paths, most specific first. */
export function configCandidates(explicit?: string): string[] {
  if (explicit) return [resolve(explicit)];
  return [resolve('orrery.json'), join(homedir(), '.orrery', 'config.json')];
}

/** Loads the config (an absent default file is an empty config; an absent explicit one is an error). */
export function loadConfig(explicit?: string): LoadedConfig {
  const path = configCandidates(explicit).find((p) => existsSync(p));
  if (!path) {
    if (explicit) throw new Error(`config file ${explicit} does not exist`);
    return { path: undefined, backends: [], placementRules: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`config file ${path} must hold an object { backends?, placementRules? }`);
  const { backends = [], placementRules = [] } = parsed as { backends?: unknown; placementRules?: unknown };
  if (!Array.isArray(backends)) throw new Error(`config file ${path}: backends must be an array`);
  if (!Array.isArray(placementRules)) throw new Error(`config file ${path}: placementRules must be an array`);
  return { path, backends: backends as Record<string, unknown>[], placementRules };
}
