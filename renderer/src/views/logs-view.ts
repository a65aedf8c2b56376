/**
 * Logs tab: worker output streamed live, for one task (with its earlier lines) or one node
 * (with the recent lines the head kept, so a reload loses nothing; in a replay, the lines the
 * session recorded).
 */
import type { App, View } from '../app.ts';
import type { NodeLogLine } from '../api-types.ts';
import { h } from '../dom.ts';
import { api } from '../head-client.ts';
import { shortId } from '../short-id.ts';

const SHOWN_LINES = 5000;
/** Where the chosen node is remembered across reloads (per tab). */
const NODE_KEY = 'orrery.logs.node';

/** A kept node line as the live stream shows it (task id first, `[err]` on stderr). */
function nodeLineText(l: NodeLogLine): string[] {
  return l.text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => `${l.taskId ? `${shortId(l.taskId)} ` : ''}${l.stream === 'stderr' ? `[err] ${line}` : line}`);
}

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
    // A replay lists the nodes the session recorded and reads their lines from it.
    app.onShownChange(() => {
      if (this.mode?.kind === 'node') this.mode = undefined;
      this.nodesShown = '\0';
      if (!this.element.hidden) this.show();
    });
  }

  show(): void {
    this.syncNodes();
    this.draw();
  }

  /** Rebuilds the node menu when the live node list differs from the one it shows. */
  private syncNodes(): void {
    const replay = this.app.shown.replayOf !== undefined;
    const nodes = replay
      ? this.app.shown.recordedNodes.map((n) => ({ nodeId: n.nodeId, backend: n.backend ?? '?' }))
      : this.app.live.nodes;
    const key = nodes.map((n) => `${n.nodeId} ${n.backend}`).join('\n');
    if (key === this.nodesShown) return;
    this.nodesShown = key;
    const current = this.source.value;
    this.source.replaceChildren(
      h('option', { value: '' }, 'choose a node'),
      ...nodes.map((n) => h('option', { value: n.nodeId }, `${n.nodeId} (${n.backend})`)),
    );
    this.source.value = current;
    // After a reload: the node chosen before, once the snapshot listed it.
    const remembered = replay ? null : sessionStorage.getItem(NODE_KEY);
    if (!this.mode && remembered && nodes.some((n) => n.nodeId === remembered)) {
      this.source.value = remembered;
      void this.select();
    }
  }

  /** Shows the chosen node's lines: those the head (or the replayed session) kept, then new ones as they stream in. */
  private async select(): Promise<void> {
    const id = this.source.value;
    const replay = this.app.shown.replayOf;
    if (replay === undefined) {
      if (id) sessionStorage.setItem(NODE_KEY, id);
      else sessionStorage.removeItem(NODE_KEY);
    }
    if (!id) {
      this.mode = undefined;
      return this.draw();
    }
    const streamedBefore = replay === undefined ? (this.app.live.nodeLogs.get(id)?.length ?? 0) : Infinity;
    const mode = { kind: 'node' as const, id, earlier: [] as string[], streamedBefore };
    this.mode = mode;
    this.draw();
    const path =
      replay === undefined
        ? `node-logs/${encodeURIComponent(id)}`
        : `sessions/${encodeURIComponent(replay)}/node-logs/${encodeURIComponent(id)}`;
    try {
      const r = await api<{ lines: NodeLogLine[] }>(path);
      mode.earlier = r.lines.flatMap(nodeLineText);
    } catch (err) {
      mode.earlier = [`(cannot load earlier lines: ${(err as Error).message})`];
    }
    if (this.mode === mode) this.draw();
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
        ? [...m.earlier, ...(this.app.live.nodeLogs.get(m.id) ?? []).slice(m.streamedBefore)]
        : [...m.earlier, ...(this.app.live.taskLogs.get(m.id) ?? []).slice(m.streamedBefore)];
    const text = lines.slice(-SHOWN_LINES).join('\n') || '(no output yet)';
    if (this.out.textContent === text) return;
    const atBottom = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 20;
    this.out.textContent = text;
    if (atBottom) this.out.scrollTop = this.out.scrollHeight;
  }
}
