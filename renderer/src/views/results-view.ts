/**
 * Results tab: the latest result of each task name (a number, a line plot, a measurement
 * histogram, an image, or JSON), and Run buttons for the example experiments.
 */
import type { App, View } from '../app.ts';
import type { TaskDetail } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import { renderResult } from '../result-render.ts';
import { openTask } from '../task-panel.ts';

type Example = { name: string; description?: string };
const SHOWN_NAMES = 24;

/** The results tab. */
export class ResultsView implements View {
  readonly id = 'results';
  readonly title = 'Results';
  readonly element: HTMLElement;
  private readonly examples = h('div', { class: 'examples' });
  private readonly cards = h('div', { class: 'cards', 'data-testid': 'result-cards' });
  private readonly message = h('div', { class: 'message', role: 'status' });
  private readonly cache = new Map<string, HTMLElement>();
  private timer: number | undefined;

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'results-view' },
      h('h2', {}, 'Example experiments'),
      this.examples,
      this.message,
      h('h2', {}, 'Latest results'),
      this.cards,
    );
    // The feed's snapshot can arrive after show() (a reload on #results): draw the cards from it then.
    app.onShownChange(() => {
      if (!this.element.hidden) void this.refresh();
    });
  }

  show(): void {
    void api<Example[] | { examples: Example[] }>('examples').then(
      (r) => {
        const list = Array.isArray(r) ? r : r.examples;
        replace(
          this.examples,
          ...list.map((e) =>
            h(
              'div',
              { class: 'example' },
              h('button', { onclick: () => void this.run(e.name) }, `Run ${e.name}`),
              h('small', {}, e.description ?? ''),
            ),
          ),
        );
      },
      (err: Error) => (this.examples.textContent = `No examples: ${err.message}`),
    );
    void this.refresh();
  }

  private async run(name: string): Promise<void> {
    this.message.textContent = `Starting ${name}…`;
    try {
      await api('examples/run', { method: 'POST', body: { name } });
      this.message.textContent = `${name} started; its tasks appear in the graph, and results below when they finish.`;
      window.setTimeout(() => void this.refresh(), 3000);
    } catch (err) {
      this.message.textContent = `Cannot run ${name}: ${(err as Error).message}`;
    }
  }

  /** One card per task name: the result of its most recent finished task. */
  private async refresh(): Promise<void> {
    const store = this.app.shown;
    const latest = new Map<string, string>();
    for (let i = store.order.length - 1; i >= 0 && latest.size < SHOWN_NAMES; i--) {
      const t = store.tasks.get(store.order[i]!)!;
      if (t.state === 'FINISHED' && !latest.has(t.name)) latest.set(t.name, t.id);
    }
    const session = store.replayOf;
    const cards = await Promise.all(
      [...latest].map(async ([name, id]) => {
        const key = `${session ?? ''}/${id}`;
        let body = this.cache.get(key);
        if (!body) {
          const d = await api<TaskDetail>(
            session ? `sessions/${encodeURIComponent(session)}/tasks/${id}` : `tasks/${id}`,
          ).catch(() => undefined);
          body = d?.result
            ? renderResult(d.result.json, d.result.preview)
            : h('p', { class: 'hint' }, 'no result kept');
          this.cache.set(key, body);
        }
        // The caption opens the task's panel (its arguments, circuit, facts and logs).
        const open = () => void openTask(this.app, id, session);
        const caption = h(
          'figcaption',
          {
            title: name,
            role: 'button',
            tabindex: 0,
            'aria-label': `${name}: open the task`,
            onclick: open,
            onkeydown: (e: Event) => (e as KeyboardEvent).key === 'Enter' && open(),
          },
          name,
        );
        return h('figure', { class: 'card', 'data-task': id }, caption, body);
      }),
    );
    replace(this.cards, ...(cards.length ? cards : [h('p', { class: 'hint' }, 'No finished tasks yet.')]));
    clearTimeout(this.timer);
    if (!this.element.hidden) this.timer = window.setTimeout(() => void this.refresh(), 5000);
  }
}
