/**
 * Placement rules editor: the ordered rules (first match decides) with a task-name glob and a
 * kind to match, and require / prefer / avoid targets (a backend and/or labels); a preview of
 * where each of the session's remote functions would go; Save applies them to tasks submitted
 * afterwards.
 */
import type { App, View } from '../app.ts';
import type { PlacementRule, PlacementTarget, RulePreview, RuleKind } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api, HeadRequestError } from '../head-client.ts';

const KINDS: readonly RuleKind[] = ['function', 'command', 'circuit', 'actor'];
const EFFECTS = ['require', 'prefer', 'avoid'] as const;

/** `a=b, c=d` to a record; undefined when empty. */
export function parseLabels(text: string): Record<string, string> | undefined {
  const pairs = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!pairs.length) return undefined;
  const out = new Map<string, string>();
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`label "${p}" must be key=value`);
    out.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
  }
  // Keys are typed by the user: fromEntries keeps `__proto__` a key, which the head then refuses with a message.
  return Object.fromEntries(out);
}

function labelsText(l: Record<string, string> | undefined): string {
  return l
    ? Object.entries(l)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';
}

/** The placement tab. */
export class PlacementView implements View {
  readonly id = 'placement';
  readonly title = 'Placement';
  readonly element: HTMLElement;
  private rules: PlacementRule[] = [];
  private readonly rows = h('div', { class: 'rules' });
  private readonly preview = h('div', { class: 'preview', 'data-testid': 'rule-preview' });
  private readonly message = h('div', { class: 'message', role: 'status', 'data-testid': 'rules-message' });

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'placement-view' },
      h(
        'div',
        { class: 'toolbar' },
        h('h2', {}, 'Placement rules'),
        h('button', { onclick: () => this.edit(() => this.rules.push({ match: {} })) }, 'Add rule'),
        h('button', { onclick: () => void this.runPreview() }, 'Preview'),
        h('button', { class: 'primary', onclick: () => void this.save() }, 'Save rules'),
      ),
      h(
        'p',
        { class: 'hint' },
        'Rules apply in order; the first that matches a task decides. Saved rules affect tasks submitted afterwards.',
      ),
      this.rows,
      this.message,
      h('h3', {}, "Where the session's remote functions would go"),
      this.preview,
    );
  }

  show(): void {
    void api<PlacementRule[] | { rules: PlacementRule[] }>('placement-rules').then(
      (r) => {
        this.rules = Array.isArray(r) ? r : r.rules;
        this.render();
        void this.runPreview();
      },
      (err: Error) => (this.message.textContent = `Cannot load rules: ${err.message}`),
    );
  }

  private edit(fn: () => void): void {
    fn();
    this.render();
  }

  private render(): void {
    const backends = this.app.backends.map((b) => b.name);
    replace(
      this.rows,
      ...this.rules.map((rule, i) => {
        const set = (next: PlacementRule) => (this.rules[i] = next);
        const target = (effect: (typeof EFFECTS)[number]) => {
          const t: PlacementTarget = rule[effect] ?? {};
          const backend = h(
            'select',
            { 'aria-label': `rule ${i + 1} ${effect} backend`, 'data-role': `${effect}-backend` },
            h('option', { value: '' }, '—'),
            ...[...new Set([...backends, ...(t.backend ? [t.backend] : [])])].map((b) => h('option', { value: b }, b)),
          );
          backend.value = t.backend ?? '';
          const labels = h('input', {
            type: 'text',
            placeholder: 'key=value, …',
            'aria-label': `rule ${i + 1} ${effect} labels`,
            'data-role': `${effect}-labels`,
            value: labelsText(t.labels),
          });
          const update = () => {
            let l: Record<string, string> | undefined;
            try {
              l = parseLabels(labels.value);
              labels.setCustomValidity('');
            } catch (err) {
              labels.setCustomValidity((err as Error).message);
              this.message.textContent = `Rule ${i + 1}: ${(err as Error).message}`;
              return;
            }
            const next: PlacementTarget = {
              ...(backend.value ? { backend: backend.value } : {}),
              ...(l ? { labels: l } : {}),
            };
            const copy: Record<string, unknown> = { ...this.rules[i] };
            if (Object.keys(next).length) copy[effect] = next;
            else delete copy[effect];
            set(copy as unknown as PlacementRule);
          };
          backend.addEventListener('change', update);
          labels.addEventListener('change', update);
          return h('fieldset', { class: 'target' }, h('legend', {}, effect), backend, labels);
        };
        const name = h('input', {
          type: 'text',
          placeholder: 'name glob, e.g. train*',
          'aria-label': `rule ${i + 1} name glob`,
          'data-role': 'match-name',
          value: rule.match.name ?? '',
        });
        const kind = h(
          'select',
          { 'aria-label': `rule ${i + 1} kind`, 'data-role': 'match-kind' },
          h('option', { value: '' }, 'any kind'),
          ...KINDS.map((k) => h('option', { value: k }, k)),
        );
        kind.value = rule.match.kind ?? '';
        const updateMatch = () =>
          set({
            ...this.rules[i]!,
            match: {
              ...(name.value.trim() ? { name: name.value.trim() } : {}),
              ...(kind.value ? { kind: kind.value as RuleKind } : {}),
            },
          });
        name.addEventListener('change', updateMatch);
        kind.addEventListener('change', updateMatch);
        const move = (d: number) =>
          this.edit(() => {
            const j = i + d;
            if (j < 0 || j >= this.rules.length) return;
            [this.rules[i], this.rules[j]] = [this.rules[j]!, this.rules[i]!];
          });
        return h(
          'div',
          { class: 'rule', 'data-rule': i },
          h('span', { class: 'rule-index' }, `#${i + 1}`),
          h('fieldset', { class: 'target' }, h('legend', {}, 'match'), name, kind),
          ...EFFECTS.map(target),
          h(
            'span',
            { class: 'actions' },
            h('button', { 'aria-label': `move rule ${i + 1} up`, onclick: () => move(-1) }, '↑'),
            h('button', { 'aria-label': `move rule ${i + 1} down`, onclick: () => move(1) }, '↓'),
            h(
              'button',
              { 'aria-label': `remove rule ${i + 1}`, onclick: () => this.edit(() => this.rules.splice(i, 1)) },
              '✕',
            ),
          ),
        );
      }),
      this.rules.length ? null : h('p', { class: 'hint' }, 'No rules: tasks go where their code options send them.'),
    );
  }

  private async runPreview(): Promise<void> {
    try {
      const r = await api<RulePreview>('placement-rules/preview', { method: 'POST', body: { rules: this.rules } });
      replace(
        this.preview,
        r.functions.length === 0
          ? h('p', { class: 'hint' }, 'No remote functions submitted in this session yet.')
          : h(
              'table',
              { class: 'grid' },
              h(
                'thead',
                {},
                h('tr', {}, ...['function', 'kind', 'rule', 'backend', 'labels'].map((c) => h('th', {}, c))),
              ),
              h(
                'tbody',
                {},
                ...r.functions.map((f) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, f.name),
                    h('td', {}, f.kind),
                    h('td', {}, f.ruleIndex === undefined || f.ruleIndex === null ? '—' : `#${f.ruleIndex + 1}`),
                    h('td', {}, f.backend ?? 'any'),
                    h('td', {}, labelsText(f.labels)),
                  ),
                ),
              ),
            ),
      );
    } catch (err) {
      this.message.textContent = `Preview failed: ${(err as Error).message}`;
    }
  }

  private async save(): Promise<void> {
    try {
      await api('placement-rules', { method: 'PUT', body: this.rules });
      this.app.rules = [...this.rules];
      this.message.textContent = `Saved ${this.rules.length} rule(s); they apply to tasks submitted from now on.`;
      void this.runPreview();
    } catch (err) {
      const fields =
        err instanceof HeadRequestError && err.body.fields
          ? ` ${Object.entries(err.body.fields)
              .map(([k, v]) => `${k}: ${v}`)
              .join('; ')}`
          : '';
      this.message.textContent = `Not saved: ${(err as Error).message}${fields}`;
    }
  }
}
