/**
 * What the placement preview says: the table of where each remote function would go (with the
 * backend its own code names when a rule overrides it), and the warning on a rule that no live
 * node or backend can satisfy now.
 */
import type { PlacementRule, PlacementTarget, RulePreview } from '../api-types.ts';
import { h, type Child } from '../dom.ts';

/** `a=b, c=d` (empty for none). */
export function labelsText(l: Record<string, string> | undefined): string {
  return l
    ? Object.entries(l)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';
}

function targetText(t: PlacementTarget | undefined): string {
  const parts = [
    t?.backend ? `backend ${t.backend}` : '',
    Object.keys(t?.labels ?? {}).length ? `labels ${labelsText(t?.labels)}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'any node';
}

/**
 * The warning for rule `index` under a preview; undefined when something can run its tasks.
 * A rule warns when no live node meets its `require`, or when some function it places (with
 * that function's own backend and labels) has no candidate.
 */
export function ruleWarning(preview: RulePreview, rules: readonly PlacementRule[], index: number): string | undefined {
  const rule = rules[index];
  if (!rule) return undefined;
  const own = preview.rules?.find((r) => r.index === index);
  if (own && own.candidates.length === 0)
    return `No node or backend can satisfy this rule now: nothing live has ${targetText(rule.require)}. Tasks it places would wait, then fail as unschedulable; add such a backend or change the rule.`;
  const stuck = preview.functions.filter((f) => f.ruleIndex === index && f.candidates?.length === 0);
  if (stuck.length === 0) return undefined;
  const what = stuck
    .slice(0, 3)
    .map((f) => `${f.name} (needs ${targetText({ backend: f.backend ?? undefined, labels: f.labels })})`)
    .join('; ');
  return `No node or backend can satisfy this rule now for ${what}${stuck.length > 3 ? ` and ${stuck.length - 3} more` : ''}. They would wait, then fail as unschedulable.`;
}

/** The backend cell: the one it goes to, and a note when a rule overrides the code's own `backend:`. */
function backendCell(f: RulePreview['functions'][number]): Child[] {
  const goes = f.backend ?? 'any';
  if (f.ruleIndex === null || f.ruleIndex === undefined || !f.ownBackend || f.ownBackend === f.backend) return [goes];
  return [
    goes,
    h(
      'div',
      { class: 'override', 'data-testid': 'backend-override' },
      `rule #${f.ruleIndex + 1} overrides backend: '${f.ownBackend}' in its code`,
    ),
  ];
}

/** The preview table (or a note when the session has no remote functions yet). */
export function previewTable(r: RulePreview): HTMLElement {
  if (r.functions.length === 0) return h('p', { class: 'hint' }, 'No remote functions submitted in this session yet.');
  return h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      {},
      h('tr', {}, ...['function', 'kind', 'rule', 'backend', 'labels', 'can run on now'].map((c) => h('th', {}, c))),
    ),
    h(
      'tbody',
      {},
      ...r.functions.map((f) =>
        h(
          'tr',
          { 'data-function': f.name },
          h('td', {}, f.name),
          h('td', {}, f.kind),
          h('td', {}, f.ruleIndex === undefined || f.ruleIndex === null ? '—' : `#${f.ruleIndex + 1}`),
          h('td', {}, ...backendCell(f)),
          h('td', {}, labelsText(f.labels)),
          h(
            'td',
            {},
            f.candidates === undefined
              ? ''
              : f.candidates.length
                ? f.candidates.join(', ')
                : h('span', { class: 'error' }, 'nothing (would wait, then fail)'),
          ),
        ),
      ),
    ),
  );
}
