/**
 * Placement rules: user-chosen data (from the UI, the session or the config file) that maps
 * tasks to backends without touching their code. Rules are ordered; the first that matches a
 * task decides, and the task records which rule placed it.
 */
import { OrreryError } from '../core/errors.ts';
import { checkNameKeys, nameProblem } from '../core/names.ts';
import { parseLabelSelector } from '../core/label-selector.ts';
import type { PlacementTarget } from './types.ts';

/** Kinds of work a rule can match. */
export type TaskKind = 'function' | 'command' | 'circuit' | 'actor';

const TASK_KINDS: readonly TaskKind[] = ['function', 'command', 'circuit', 'actor'];

/** One placement rule. */
export interface PlacementRule {
  /** Which tasks the rule applies to; every given field must match (`{}` matches all). */
  readonly match: {
    /** Glob over the task name: `*` is any run of characters, `?` one character. */
    readonly name?: string;
    readonly kind?: TaskKind;
  };
  /** Hard constraint that overrides the code's own `backend`; its labels are merged over the code's selector. */
  readonly require?: PlacementTarget;
  /** Soft preference: matching nodes win when one has room. */
  readonly prefer?: PlacementTarget;
  /** Soft avoidance: matching nodes are used only when nothing else has room. */
  readonly avoid?: PlacementTarget;
}

/** What the rules make of a task's own placement options. */
export interface PlacementOutcome {
  readonly backend?: string;
  readonly labelSelector?: Record<string, string>;
  readonly prefer?: PlacementTarget;
  readonly avoid?: PlacementTarget;
  /** Index of the rule that placed the task; absent when no rule matched. */
  readonly ruleIndex?: number;
}

/** A placement rule list failed validation; `field` is the path of the offending field. */
export class InvalidPlacementRuleError extends OrreryError {
  constructor(
    message: string,
    /** Index of the offending rule, or undefined when the list itself is malformed. */
    readonly ruleIndex: number | undefined,
    /** Path such as `placementRules[2].match.kind`. */
    readonly field: string,
  ) {
    super(message);
  }
}

const RULE_KEYS = ['match', 'require', 'prefer', 'avoid'] as const;
const MATCH_KEYS = ['name', 'kind'] as const;
const TARGET_KEYS = ['backend', 'labels'] as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, index: number): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw new InvalidPlacementRuleError(
        `${path}.${k} is not a known field; allowed fields are ${allowed.join(', ')}`,
        index,
        `${path}.${k}`,
      );
    }
  }
}

function validateTarget(x: unknown, path: string, index: number): PlacementTarget {
  if (!isRecord(x)) {
    throw new InvalidPlacementRuleError(`${path} must be an object like { backend?, labels? }`, index, path);
  }
  checkKeys(x, TARGET_KEYS, path, index);
  const out: { backend?: string; labels?: Record<string, string> } = {};
  if (x.backend !== undefined) {
    if (typeof x.backend !== 'string' || nameProblem(x.backend) !== undefined) {
      throw new InvalidPlacementRuleError(
        `${path}.backend must be a non-empty backend name without control characters, other than __proto__, constructor or prototype (got ${JSON.stringify(x.backend)})`,
        index,
        `${path}.backend`,
      );
    }
    out.backend = x.backend;
  }
  if (x.labels !== undefined) {
    const field = `${path}.labels`;
    if (!isRecord(x.labels)) {
      throw new InvalidPlacementRuleError(`${field} must be an object of label selectors`, index, field);
    }
    try {
      parseLabelSelector(x.labels as Record<string, string>);
      checkNameKeys('labels', x.labels);
    } catch (err) {
      throw new InvalidPlacementRuleError(`${field}: ${(err as Error).message}`, index, field);
    }
    out.labels = { ...(x.labels as Record<string, string>) };
  }
  return out;
}

/**
 * Checks an untrusted rule list (config file, session, UI) and returns a normalised copy.
 *
 * @throws InvalidPlacementRuleError naming the rule index and the field that is wrong.
 */
export function validatePlacementRules(x: unknown): PlacementRule[] {
  if (!Array.isArray(x)) {
    throw new InvalidPlacementRuleError('placementRules must be an array of rules', undefined, 'placementRules');
  }
  return x.map((rule: unknown, i): PlacementRule => {
    const path = `placementRules[${i}]`;
    if (!isRecord(rule)) {
      throw new InvalidPlacementRuleError(`${path} must be an object { match, require?, prefer?, avoid? }`, i, path);
    }
    checkKeys(rule, RULE_KEYS, path, i);
    if (!isRecord(rule.match)) {
      throw new InvalidPlacementRuleError(
        `${path}.match must be an object { name?, kind? } (use {} to match every task)`,
        i,
        `${path}.match`,
      );
    }
    checkKeys(rule.match, MATCH_KEYS, `${path}.match`, i);
    const match: { name?: string; kind?: TaskKind } = {};
    const { name, kind } = rule.match;
    if (name !== undefined) {
      if (typeof name !== 'string' || name === '') {
        throw new InvalidPlacementRuleError(
          `${path}.match.name must be a non-empty glob ('*' any characters, '?' one character)`,
          i,
          `${path}.match.name`,
        );
      }
      match.name = name;
    }
    if (kind !== undefined) {
      if (!TASK_KINDS.includes(kind as TaskKind)) {
        throw new InvalidPlacementRuleError(
          `${path}.match.kind must be one of ${TASK_KINDS.map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(kind)}`,
          i,
          `${path}.match.kind`,
        );
      }
      match.kind = kind as TaskKind;
    }
    const out: {
      match: PlacementRule['match'];
      require?: PlacementTarget;
      prefer?: PlacementTarget;
      avoid?: PlacementTarget;
    } = { match };
    for (const key of ['require', 'prefer', 'avoid'] as const) {
      if (rule[key] !== undefined) out[key] = validateTarget(rule[key], `${path}.${key}`, i);
    }
    return out;
  });
}

/** A target that constrains nothing: neither a backend nor any label. */
function isEmptyTarget(t: PlacementTarget): boolean {
  return t.backend === undefined && Object.keys(t.labels ?? {}).length === 0;
}

/**
 * Validates a rule list someone just edited (the dashboard's Save), more strictly than
 * {@link validatePlacementRules} does for lists already on disk or in a session: every rule must
 * constrain something. A rule whose only constraint was dropped (an empty `prefer: {}`, or no
 * `require`/`prefer`/`avoid` at all) still matches its tasks, so it would place them nowhere in
 * particular and hide every rule after it; with `match: {}` that is every task.
 *
 * @throws InvalidPlacementRuleError naming the rule index and the empty field.
 */
export function validateEditedPlacementRules(x: unknown): PlacementRule[] {
  const rules = validatePlacementRules(x);
  rules.forEach((rule, i) => {
    const path = `placementRules[${i}]`;
    const matches = rule.match.name === undefined && rule.match.kind === undefined ? 'every task' : 'its tasks';
    for (const key of ['require', 'prefer', 'avoid'] as const) {
      const t = rule[key];
      if (t !== undefined && isEmptyTarget(t))
        throw new InvalidPlacementRuleError(
          `${path}.${key} names neither a backend nor labels: give one, or leave ${key} out`,
          i,
          `${path}.${key}`,
        );
    }
    if (rule.require === undefined && rule.prefer === undefined && rule.avoid === undefined)
      throw new InvalidPlacementRuleError(
        `${path} has no require, prefer or avoid: it would match ${matches}, change nothing for them and hide the rules after it; give it a backend or labels, or remove it`,
        i,
        path,
      );
  });
  return rules;
}

// Rules are applied to every submitted task, so compiled globs are kept (there are few).
const globCache = new Map<string, RegExp>();

/** Compiles a name glob: `*` matches any run of characters (dots included), `?` one character. */
function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re === undefined) {
    const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
    re = new RegExp(`^${body}$`, 's');
    globCache.set(glob, re);
  }
  return re;
}

function ruleMatches(rule: PlacementRule, task: { readonly name: string; readonly kind: TaskKind }): boolean {
  if (rule.match.kind !== undefined && rule.match.kind !== task.kind) return false;
  if (rule.match.name !== undefined && !globToRegExp(rule.match.name).test(task.name)) return false;
  return true;
}

/**
 * Applies the first matching rule to a task's own placement options. The rule's `require`
 * wins over the code (the user chose it in the UI after the code was written); its labels
 * are merged over the code's selector key by key. Absent fields are left out of the result.
 */
export function applyPlacementRules(
  rules: readonly PlacementRule[],
  task: { readonly name: string; readonly kind: TaskKind },
  own: { readonly backend?: string; readonly labelSelector?: Readonly<Record<string, string>> },
): PlacementOutcome {
  const index = rules.findIndex((r) => ruleMatches(r, task));
  const rule = index >= 0 ? rules[index] : undefined;
  const out: {
    backend?: string;
    labelSelector?: Record<string, string>;
    prefer?: PlacementTarget;
    avoid?: PlacementTarget;
    ruleIndex?: number;
  } = {};
  const backend = rule?.require?.backend ?? own.backend;
  if (backend !== undefined) out.backend = backend;
  if (own.labelSelector !== undefined || rule?.require?.labels !== undefined) {
    out.labelSelector = { ...own.labelSelector, ...rule?.require?.labels };
  }
  if (rule?.prefer !== undefined) out.prefer = rule.prefer;
  if (rule?.avoid !== undefined) out.avoid = rule.avoid;
  if (rule !== undefined) out.ruleIndex = index;
  return out;
}
