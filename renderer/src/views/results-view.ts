/**
 * Results tab: the latest result of each task name (a number, a line plot, a measurement
 * histogram, an image, or JSON), and Run buttons for the example experiments.
 */
import type { App, View } from '../app.ts';
import { h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import { LatestResults, latestFinished } from './latest-results.ts';

type Example = { name: string; description?: string };
const SHOWN_NAMES = 24;

/** The results tab. */
export class ResultsView implements View {
  readonly id = 'results';
  readonly title = 'Results';
  readonly element: HTMLElement;
  private readonly examples = h('div', { class: 'examples' });
  private readonly cards: LatestResults;
  private readonly message = h('div', { class: 'message', role: 'status' });
  private timer: number | undefined;

  constructor(private readonly app: App) {
    this.cards = new LatestResults(app, 'result-cards');
    this.element = h(
      'section',
      { class: 'results-view' },
      h('h2', {}, 'Example experiments'),
      this.examples,
      this.message,
      h('h2', {}, 'Latest results'),
      this.cards.element,
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
    await this.cards.refresh(store, latestFinished(store, SHOWN_NAMES), 'No finished tasks yet.');
    clearTimeout(this.timer);
    if (!this.element.hidden) this.timer = window.setTimeout(() => void this.refresh(), 5000);
  }
}
