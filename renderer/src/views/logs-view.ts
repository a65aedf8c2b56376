/** Logs tab: worker output streamed live, for one task (with its earlier lines) or one node. */
import type { App, View } from '../app.ts';
import { h } from '../dom.ts';
import { api } from '../head-client.ts';

const SHOWN_LINES = 5000;

/** The logs tab. */
export class LogsView implements View {
  readonly id = 'logs';
  readonly title = 'Logs';
  readonly element: HTMLElement;
  private readonly source = h('select', {
    'aria-label': 'Log source',
    'data-testid': 'log-source',
    onchange: () => void this.select(),
  });
  private readonly taskInput = h('input', {
    type: 'search',
    placeholder: 'task id',
    'aria-label': 'Task id',
    'data-testid': 'log-task',
    onchange: () => void this.openTask(this.taskInput.value.trim()),
  });
  private readonly out = h('pre', {
    class: 'logs big',
    tabindex: 0,
    'aria-label': 'Log lines',
    'aria-live': 'polite',
    'data-testid': 'log-lines',
  });
  /** The node list the source menu was built from (`id backend` lines), to rebuild only when it changed. */
  private nodesShown = '\0';
  private mode: { kind: 'node' | 'task'; id: string; earlier: string[]; streamedBefore: number } | undefined;

  constructor(private readonly app: App) {
    this.element = h(
      'section',
      { class: 'logs-view' },
      h('div', { class: 'toolbar' }, h('label', {}, 'node ', this.source), h('label', {}, 'or task ', this.taskInput)),
      this.out,
    );
    // The node list arrives with the feed's snapshot, which can come after show() (a reload on #logs).
    app.live.onChange(() => {
      if (this.element.hidden) return;
      this.syncNodes();
      this.draw();
    });
  }

  show(): void {
    this.syncNodes();
    this.draw();
  }

  /** Rebuilds the node menu when the live node list differs from the one it shows. */
  private syncNodes(): void {
    const nodes = this.app.live.nodes;
    const key = nodes.map((n) => `${n.nodeId} ${n.backend}`).join('\n');
    if (key === this.nodesShown) return;
    this.nodesShown = key;
    const current = this.source.value;
    this.source.replaceChildren(
      h('option', { value: '' }, 'choose a node'),
      ...nodes.map((n) => h('option', { value: n.nodeId }, `${n.nodeId} (${n.backend})`)),
    );
    this.source.value = current;
  }

  private async select(): Promise<void> {
    const id = this.source.value;
    this.mode = id ? { kind: 'node', id, earlier: [], streamedBefore: 0 } : undefined;
    this.draw();
  }

  /** Shows task `id`'s lines: those the head kept, then new ones as they stream in. */
  async openTask(id: string): Promise<void> {
    if (!id) return;
    this.taskInput.value = id;
    const streamedBefore = this.app.live.taskLogs.get(id)?.length ?? 0;
    this.mode = { kind: 'task', id, earlier: [], streamedBefore };
    try {
      const r = await api<{ lines: string[] }>(`logs/${encodeURIComponent(id)}`);
      if (this.mode?.id === id) this.mode.earlier = r.lines;
    } catch (err) {
      if (this.mode?.id === id) this.mode.earlier = [`(cannot load earlier lines: ${(err as Error).message})`];
    }
    this.draw();
  }

  private draw(): void {
    const m = this.mode;
    if (!m) {
      this.out.textContent = 'Choose a node, or type a task id, to follow its output.';
      return;
    }
    const lines =
      m.kind === 'node'
        ? (this.app.live.nodeLogs.get(m.id) ?? [])
        : [...m.earlier, ...(this.app.live.taskLogs.get(m.id) ?? []).slice(m.streamedBefore)];
    const text = lines.slice(-SHOWN_LINES).join('\n') || '(no output yet)';
    if (this.out.textContent === text) return;
    const atBottom = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 20;
    this.out.textContent = text;
    if (atBottom) this.out.scrollTop = this.out.scrollHeight;
  }
}
