/**
 * Placement rules from the dashboard: the current list, replacing it on the running head
 * (tasks submitted afterwards follow it; the config file and the session record it), and a
 * preview of where each function the head has seen would go under a proposed list.
 */
import { redactSecrets } from '../core/secret-values.ts';
import type { Head } from '../head/head.ts';
import { matchesLabels } from '../core/label-selector.ts';
import {
  applyPlacementRules,
  InvalidPlacementRuleError,
  validateEditedPlacementRules,
  validatePlacementRules,
  type PlacementRule,
  type TaskKind,
} from '../scheduler/placement-rules.ts';
import type { SessionRecorder } from '../sessions/index.ts';
import type { ConfigFileWriter } from './dashboard-config-file.ts';
import { DashboardRequestError } from './dashboard-errors.ts';

/** Stream of the session log lines that record a new rule list (node `head`); the text is `placementRules <json>`. */
export const RULES_LOG = { nodeId: 'head', stream: 'orrery', prefix: 'placementRules ' } as const;

/** One line of the preview: where tasks of this name and kind would go. */
export interface PreviewEntry {
  readonly name: string;
  /** The kind placement rules match: function, command, circuit or actor (actor creation). */
  readonly kind: TaskKind;
  /** The rule that would place it; null when none matches. */
  readonly ruleIndex: number | null;
  /** The backend it is pinned to (by the rule or its own code); null when any backend may run it. */
  readonly backend: string | null;
  /** The label selector it would carry. */
  readonly labels?: Record<string, string>;
  /** Backends with a live node that satisfies backend and labels now (empty: it would wait, then fail as unschedulable). */
  readonly candidates: string[];
  /** The backend its own code names (`backend:` option); null when none. A rule's `require.backend` overrides it. */
  readonly ownBackend: string | null;
}

/** Per rule of the preview: where the tasks it places could run now. */
export interface RulePreviewEntry {
  readonly index: number;
  /** Backends with a live node that satisfies the rule's `require` (every live backend when it has none); empty: nothing can run them now. */
  readonly candidates: string[];
}

/** The placement rules of a service. */
export class DashboardRules {
  private rules: PlacementRule[];
  /** Every list in force, with when it took effect (for the rule a task was placed by). */
  private readonly history: { since: number; rules: PlacementRule[] }[];

  constructor(
    private readonly head: Head,
    initial: readonly PlacementRule[] | undefined,
    private readonly file: ConfigFileWriter,
    private readonly recorder: () => SessionRecorder | undefined,
    /** Called after a change (the live feed sends the new list). */
    private readonly changed: () => void,
  ) {
    this.rules = validatePlacementRules(initial ?? []);
    this.history = [{ since: 0, rules: this.rules }];
  }

  /** The rules in force. */
  get(): PlacementRule[] {
    return this.rules;
  }

  /** The rules that were in force at `ts` (ms). */
  at(ts: number): PlacementRule[] {
    for (let i = this.history.length - 1; i >= 0; i--) if (this.history[i]!.since <= ts) return this.history[i]!.rules;
    return this.rules;
  }

  /** PUT /api/placement-rules. */
  set(body: unknown): PlacementRule[] {
    const rules = check(body, validateEditedPlacementRules);
    this.file.check({ op: 'set-placement-rules', rules });
    this.head.setPlacementRules(rules);
    this.rules = rules;
    this.history.push({ since: Date.now(), rules });
    this.file.setPlacementRules(rules);
    this.recorder()?.recordLog({
      nodeId: RULES_LOG.nodeId,
      stream: RULES_LOG.stream,
      text: `${RULES_LOG.prefix}${JSON.stringify(redactSecrets(rules).value)}`,
    });
    this.changed();
    return rules;
  }

  /** POST /api/placement-rules/preview: `{ rules }` applied to every distinct (name, kind) the head has seen. */
  preview(body: unknown): { functions: PreviewEntry[]; rules: RulePreviewEntry[] } {
    if (typeof body !== 'object' || body === null || !('rules' in body))
      throw new DashboardRequestError(400, 'the body must be { rules: PlacementRule[] }', { rules: 'required' });
    const rules = check((body as { rules: unknown }).rules);
    const seen = new Map<
      string,
      { name: string; kind: TaskKind; own: { backend?: string; labelSelector?: Readonly<Record<string, string>> } }
    >();
    for (const t of this.head.queries.tasks()) {
      const s = t.spec;
      if (s.kind === 'actor-call') continue;
      const kind: TaskKind = s.kind === 'actor-create' ? 'actor' : (s.variant ?? 'function');
      const key = `${kind}\0${s.name}`;
      if (!seen.has(key))
        seen.set(key, {
          name: s.name,
          kind,
          own: { backend: s.options.backend, labelSelector: s.options.labelSelector },
        });
    }
    const nodes = this.head.queries.state('nodes', [['state', '=', 'ALIVE']], 1_000_000);
    const candidates = (backend: string | undefined, labels: Readonly<Record<string, string>> | undefined) => {
      const out = new Set<string>();
      for (const n of nodes) {
        if (backend !== undefined && n.backend !== backend) continue;
        if (labels && !matchesLabels(labels, n.labels)) continue;
        out.add(n.backend);
      }
      return [...out];
    };
    const functions = [...seen.values()].map(({ name, kind, own }): PreviewEntry => {
      const p = applyPlacementRules(rules, { name, kind }, own);
      const out: PreviewEntry = {
        name,
        kind,
        ruleIndex: p.ruleIndex ?? null,
        backend: p.backend ?? null,
        candidates: candidates(p.backend, p.labelSelector),
        ownBackend: own.backend ?? null,
      };
      return p.labelSelector ? { ...out, labels: p.labelSelector } : out;
    });
    return {
      functions,
      rules: rules.map((r, index) => ({ index, candidates: candidates(r.require?.backend, r.require?.labels) })),
    };
  }
}

/** Validates a rule list; a 400 naming the field. */
function check(body: unknown, validate: (x: unknown) => PlacementRule[] = validatePlacementRules): PlacementRule[] {
  try {
    return validate(body);
  } catch (err) {
    if (err instanceof InvalidPlacementRuleError)
      throw new DashboardRequestError(400, err.message, { [err.field]: err.message });
    throw err;
  }
}
