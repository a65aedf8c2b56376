/**
 * Placement rules editor: the ordered rules (first match decides) with a task-name glob and a
 * kind to match, and require / prefer / avoid targets (a backend and/or labels); a preview of
 * where each of the session's remote functions would go, rerun after each edit, with a warning
 * on a rule nothing can satisfy now; Save refuses while a field is invalid, and applies the
 * rules to tasks submitted afterwards.
 */
import type { App, View } from '../app.ts';
import type { BackendView, PlacementRule, PlacementTarget, RulePreview, RuleKind } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api, HeadRequestError } from '../head-client.ts';
import { labelsText, previewTable, ruleWarning } from './placement-preview.ts';

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

/** Whether a target constrains anything (the head refuses a rule that constrains nothing). */
function constrains(t: PlacementTarget | undefined): boolean {
  return t !== undefined && (t.backend !== undefined || Object.keys(t.labels ?? {}).length > 0);
}

/** `Rule 3: ` for a head error about `placementRules[2]…`; empty otherwise. */
function rulePrefix(field: string | undefined): string {
  const m = /^placementRules\[(\d+)\]/.exec(field ?? '');
  return m ? `Rule ${Number(m[1]) + 1}: ` : '';
}

/** The placement tab. */
export class PlacementView implements View {
  readonly id = 'placement';
  readonly title = 'Placement';
  readonly element: HTMLElement;
  private rules: PlacementRule[] = [];
  /** Backend names the rule menus offer: the head's list, loaded on show and kept from the feed. */
  private backendNames: string[] = [];
  /** One warning line per rule row, filled by the latest preview. */
  private warnings: HTMLElement[] = [];
  private lastPreview: RulePreview | undefined;
  private previewTimer: ReturnType<typeof setTimeout> | undefined;
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
    app.onBackendsChange(() => {
      if (!this.element.hidden) this.setBackends(app.backends);
    });
  }

  /** Loads what the view needs itself (a reload on #placement shows it before the feed's snapshot). */
  show(): void {
    void Promise.all([
      api<PlacementRule[] | { rules: PlacementRule[] }>('placement-rules'),
      api<BackendView[]>('backends'),
    ]).then(
      ([r, backends]) => {
        this.rules = Array.isArray(r) ? r : r.rules;
        this.app.backends = backends;
        this.backendNames = backends.map((b) => b.name);
        this.render();
        void this.runPreview();
      },
      (err: Error) => (this.message.textContent = `Cannot load rules: ${err.message}`),
    );
  }

  /** Redraws the rows when the backend names changed (edits are kept: they live in this.rules). */
  private setBackends(list: readonly BackendView[]): void {
    const names = list.map((b) => b.name);
    if (names.join('\0') === this.backendNames.join('\0')) return;
    this.backendNames = names;
    this.render();
    this.schedulePreview();
  }

  private edit(fn: () => void): void {
    fn();
    this.render();
    this.schedulePreview();
  }

  /** Reruns the preview shortly after an edit, so warnings follow the rules being edited. */
  private schedulePreview(): void {
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => void this.runPreview(), 250);
  }

  private render(): void {
    const backends = this.backendNames;
    this.warnings = this.rules.map((_, i) =>
      h('div', { class: 'rule-warning', role: 'alert', 'data-testid': `rule-warning-${i + 1}`, hidden: true }),
    );
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
          const check = (): boolean => {
            try {
              parseLabels(labels.value);
              labels.setCustomValidity('');
              return true;
            } catch (err) {
              labels.setCustomValidity((err as Error).message);
              return false;
            }
          };
          const update = () => {
            if (!check()) {
              this.message.textContent = `Rule ${i + 1} ${effect} labels: ${labels.validationMessage}`;
              return;
            }
            const l = parseLabels(labels.value);
            const next: PlacementTarget = {
              ...(backend.value ? { backend: backend.value } : {}),
              ...(l ? { labels: l } : {}),
            };
            const copy: Record<string, unknown> = { ...this.rules[i] };
            if (Object.keys(next).length) copy[effect] = next;
            else delete copy[effect];
            set(copy as unknown as PlacementRule);
            this.schedulePreview();
          };
          backend.addEventListener('change', update);
          labels.addEventListener('input', check);
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
        const updateMatch = () => {
          set({
            ...this.rules[i]!,
            match: {
              ...(name.value.trim() ? { name: name.value.trim() } : {}),
              ...(kind.value ? { kind: kind.value as RuleKind } : {}),
            },
          });
          this.schedulePreview();
        };
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
          this.warnings[i],
        );
      }),
      this.rules.length ? null : h('p', { class: 'hint' }, 'No rules: tasks go where their code options send them.'),
    );
    this.showWarnings();
  }

  /** Fills each rule's warning from the latest preview (of the same number of rules). */
  private showWarnings(): void {
    const p = this.lastPreview;
    this.warnings.forEach((el, i) => {
      const text =
        p && (p.rules?.length ?? this.rules.length) === this.rules.length ? ruleWarning(p, this.rules, i) : undefined;
      el.textContent = text ?? '';
      el.hidden = text === undefined;
    });
  }

  private async runPreview(): Promise<void> {
    try {
      const r = await api<RulePreview>('placement-rules/preview', { method: 'POST', body: { rules: this.rules } });
      this.lastPreview = r;
      replace(this.preview, previewTable(r));
      this.showWarnings();
    } catch (err) {
      const body = err instanceof HeadRequestError ? err.body : undefined;
      this.message.textContent = `Preview failed: ${rulePrefix(Object.keys(body?.fields ?? {})[0])}${body?.error ?? (err as Error).message}`;
    }
  }

  /** Why the rules cannot be saved as they stand (an invalid field, a rule that constrains nothing); undefined when they can. */
  private problem(): { text: string; field?: HTMLElement } | undefined {
    const bad = [...this.rows.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')].find(
      (el) => !el.checkValidity(),
    );
    if (bad)
      return {
        text: `${bad.getAttribute('aria-label')?.replace(/^rule/, 'Rule') ?? 'A field'} is invalid: ${bad.validationMessage.replace(/\.?$/, '.')} Fix or clear it, then save.`,
        field: bad,
      };
    const i = this.rules.findIndex((r) => !constrains(r.require) && !constrains(r.prefer) && !constrains(r.avoid));
    if (i >= 0)
      return {
        text: `Rule ${i + 1} has no require, prefer or avoid backend or labels, yet it would match ${
          this.rules[i]!.match.name || this.rules[i]!.match.kind ? 'its tasks' : 'every task'
        } and hide the rules after it. Give it a backend or labels, or remove it.`,
      };
    return undefined;
  }

  private async save(): Promise<void> {
    const problem = this.problem();
    if (problem) {
      this.message.textContent = `Not saved: ${problem.text}`;
      problem.field?.focus();
      return;
    }
    try {
      await api('placement-rules', { method: 'PUT', body: this.rules });
      this.app.rules = [...this.rules];
      this.message.textContent = `Saved ${this.rules.length} rule(s); they apply to tasks submitted from now on.`;
      void this.runPreview();
    } catch (err) {
      const body = err instanceof HeadRequestError ? err.body : undefined;
      this.message.textContent = `Not saved: ${rulePrefix(Object.keys(body?.fields ?? {})[0])}${body?.error ?? (err as Error).message}`;
    }
  }
}
