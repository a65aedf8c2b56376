/**
 * Cards of the latest result of each task name (a number, a line plot, a measurement histogram,
 * estimates with error bars, JSON): the Results tab shows them for everything shown, the Runs
 * tab for the selected run, so a run's own numbers appear without any `log()` call.
 */
import type { App } from '../app.ts';
import type { TaskDetail } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api } from '../head-client.ts';
import { renderResult } from '../result-render.ts';
import type { TaskStore } from '../task-store.ts';
import { openTask } from '../task-panel.ts';

/** The newest finished task of each name (of run `jobId` when given), newest name first. */
export function latestFinished(store: TaskStore, max: number, jobId?: string): Map<string, string> {
  const latest = new Map<string, string>();
  for (let i = store.order.length - 1; i >= 0 && latest.size < max; i--) {
    const t = store.tasks.get(store.order[i]!)!;
    if (t.state === 'FINISHED' && !latest.has(t.name) && (jobId === undefined || t.jobId === jobId))
      latest.set(t.name, t.id);
  }
  return latest;
}

/** A grid of result cards; `refresh` fetches only results it has not drawn before. */
export class LatestResults {
  readonly element = h('div', { class: 'cards' });
  private readonly cache = new Map<string, HTMLElement>();

  constructor(
    private readonly app: App,
    testid: string,
  ) {
    this.element.setAttribute('data-testid', testid);
  }

  /** Draws the cards of `latest` (task name to task id) of `store`; `empty` when there are none. */
  async refresh(store: TaskStore, latest: ReadonlyMap<string, string>, empty: string): Promise<void> {
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
    replace(this.element, ...(cards.length ? cards : [h('p', { class: 'hint' }, empty)]));
  }
}
