/** Backends tab: the configured backends with Edit / Test / Remove, and the add form. */
import type { App, View } from '../app.ts';
import type { BackendSchemas, BackendTestResult, BackendView } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import { backendForm, userMessage } from './backend-form.ts';

/** The backends tab. */
export class BackendsView implements View {
  readonly id = 'backends';
  readonly title = 'Backends';
  readonly element: HTMLElement;
  private readonly list = h('tbody', {});
  private readonly formHost = h('div', { class: 'form-host' });
  private readonly message = h('div', { class: 'message', role: 'status' });
  private schemas: BackendSchemas = {};

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'backends-view' },
      h(
        'div',
        { class: 'toolbar' },
        h('h2', {}, 'Backends'),
        h('button', { onclick: () => this.showForm(undefined) }, 'Add backend'),
      ),
      h(
        'table',
        { class: 'grid', 'aria-label': 'Backends' },
        h('thead', {}, h('tr', {}, ...['name', 'kind', 'nodes', 'state', ''].map((c) => h('th', {}, c)))),
        this.list,
      ),
      this.message,
      this.formHost,
    );
  }

  show(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const [backends, schemas] = await Promise.all([
        api<BackendView[]>('backends'),
        api<BackendSchemas>('backend-schemas'),
      ]);
      this.schemas = schemas;
      this.app.backends = backends;
      replace(
        this.list,
        ...backends.map((b) =>
          h(
            'tr',
            { 'data-backend': b.name },
            h('td', {}, b.name),
            h('td', {}, b.kind),
            h('td', {}, String(b.nodes)),
            h(
              'td',
              {},
              b.state === 'saved' ? 'saved, not started' : b.state,
              b.error ? h('div', { class: 'error' }, userMessage(b.error)) : null,
            ),
            h(
              'td',
              { class: 'actions' },
              h('button', { onclick: () => this.showForm(b), disabled: b.name === 'local' }, 'Edit'),
              h('button', { onclick: () => void this.test(b.name) }, 'Test'),
              b.state === 'saved' ? h('button', { onclick: () => void this.start(b.name) }, 'Start') : null,
              h('button', { onclick: () => void this.remove(b.name), disabled: b.name === 'local' }, 'Remove'),
            ),
          ),
        ),
      );
    } catch (err) {
      this.say(`Cannot load backends: ${userMessage(err)}`);
    }
  }

  private showForm(b: BackendView | undefined): void {
    replace(
      this.formHost,
      backendForm(this.schemas, b, (text) => {
        this.formHost.replaceChildren();
        this.say(text);
        void this.load();
      }),
    );
    // The form has its own message area: an old note above it would read as this form's outcome.
    this.say('');
    this.formHost.querySelector<HTMLElement>('select, input')?.focus();
  }

  /** Replaces the tab's note (not a form's) and brings it into view. */
  private say(text: string): void {
    this.message.textContent = text;
    if (text) this.message.scrollIntoView({ block: 'nearest' });
  }

  private async test(name: string): Promise<void> {
    this.app.openPanel(`Test ${name}`, h('p', {}, 'Testing…'));
    try {
      const r = await api<BackendTestResult>(`backends/${encodeURIComponent(name)}/test`, { method: 'POST' });
      this.app.openPanel(
        `Test ${name}`,
        h(
          'p',
          { class: r.ok ? 'ok' : 'error', 'data-testid': 'backend-test-result' },
          r.ok ? 'OK' : `Failed: ${r.error ?? ''}`,
        ),
        ...(r.lines.length > 0 ? [h('pre', { class: 'logs' }, r.lines.join('\n'))] : []),
      );
    } catch (err) {
      this.app.openPanel(`Test ${name}`, h('p', { class: 'error' }, (err as Error).message));
    }
  }

  /** Starts a backend saved without starting (its host is up now); it stays saved when it does not start. */
  private async start(name: string): Promise<void> {
    this.say(`Starting ${name}…`);
    try {
      await api(`backends/${encodeURIComponent(name)}/start`, { method: 'POST' });
      this.say(`Started ${name}.`);
    } catch (err) {
      this.say(`${name} stays saved, not started: ${userMessage(err)}`);
    }
    void this.load();
  }

  private async remove(name: string): Promise<void> {
    if (!window.confirm(`Remove backend ${name}? Its nodes shut down.`)) return;
    try {
      await api(`backends/${encodeURIComponent(name)}`, { method: 'DELETE' });
      this.say(`Removed ${name}.`);
    } catch (err) {
      this.say(`Cannot remove ${name}: ${userMessage(err)}`);
    }
    void this.load();
  }
}
