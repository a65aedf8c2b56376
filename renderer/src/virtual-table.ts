/**
 * A table for 100,000+ rows: fixed row height, and only the rows in view (plus a few) exist in
 * the DOM. Keyboard: arrows / PageUp / PageDown / Home / End move the selection, Enter opens it.
 */
import { h } from './dom.ts';

/** One column: a header and how to show a row's cell. */
export interface Column<T> {
  readonly label: string;
  /** CSS width, such as '12rem' or '1fr'. */
  readonly width: string;
  text(row: T): string;
  /** Optional tooltip of the cell (the full value of a shortened one). */
  title?(row: T): string;
  /** Optional colour of the cell's text. */
  colour?(row: T): string | undefined;
}

const ROW_HEIGHT = 24;
const OVERSCAN = 6;

/** A virtualised, keyboard-navigable table. */
export class VirtualTable<T> {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private rows: readonly T[] = [];
  private selected = -1;
  private readonly template: string;

  constructor(
    private readonly columns: readonly Column<T>[],
    private readonly onOpen: (row: T) => void,
    label: string,
  ) {
    this.template = columns.map((c) => c.width).join(' ');
    const header = h(
      'div',
      { class: 'vt-row vt-head', role: 'row', style: `grid-template-columns:${this.template}` },
      ...columns.map((c) => h('div', { role: 'columnheader' }, c.label)),
    );
    this.body = h('div', { class: 'vt-body' });
    this.spacer = h('div', { class: 'vt-spacer' }, this.body);
    this.viewport = h(
      'div',
      {
        class: 'vt-viewport',
        tabindex: 0,
        role: 'grid',
        'aria-label': label,
        onscroll: () => this.draw(),
        onkeydown: (e) => this.key(e as KeyboardEvent),
      },
      header,
      this.spacer,
    );
    this.element = this.viewport;
    new ResizeObserver(() => this.draw()).observe(this.viewport);
  }

  /** Shows these rows (already filtered and sorted); keeps the scroll position. */
  setRows(rows: readonly T[]): void {
    this.rows = rows;
    if (this.selected >= rows.length) this.selected = rows.length - 1;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.draw();
  }

  /** Number of rows shown (after filters). */
  get size(): number {
    return this.rows.length;
  }

  private draw(): void {
    const top = Math.max(0, this.viewport.scrollTop - ROW_HEIGHT);
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const kids = this.body.children;
    const needed = last - first;
    while (kids.length < needed)
      this.body.append(h('div', { class: 'vt-row', role: 'row', style: `grid-template-columns:${this.template}` }));
    while (kids.length > needed) kids[kids.length - 1]!.remove();
    this.body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    for (let i = 0; i < needed; i++) {
      const index = first + i;
      const row = this.rows[index]!;
      const el = kids[i] as HTMLElement;
      el.dataset.index = String(index);
      el.classList.toggle('selected', index === this.selected);
      el.onclick = () => this.select(index, true);
      el.ondblclick = () => this.onOpen(row);
      while (el.children.length < this.columns.length) el.append(h('div', { role: 'gridcell' }));
      this.columns.forEach((c, ci) => {
        const cell = el.children[ci] as HTMLElement;
        const text = c.text(row);
        if (cell.textContent !== text) cell.textContent = text;
        const title = c.title?.(row) ?? text;
        if (cell.title !== title) cell.title = title;
        cell.style.color = c.colour?.(row) ?? '';
      });
    }
  }

  private select(index: number, focus = false): void {
    if (this.rows.length === 0) return;
    this.selected = Math.max(0, Math.min(this.rows.length - 1, index));
    const y = this.selected * ROW_HEIGHT;
    const view = this.viewport.clientHeight - 2 * ROW_HEIGHT;
    if (y < this.viewport.scrollTop) this.viewport.scrollTop = y;
    else if (y > this.viewport.scrollTop + view) this.viewport.scrollTop = y - view;
    if (focus) this.viewport.focus();
    this.draw();
  }

  private key(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 2);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) this.select((this.selected < 0 ? -1 : this.selected) + moves[e.key]!);
    else if (e.key === 'Home') this.select(0);
    else if (e.key === 'End') this.select(this.rows.length - 1);
    else if (e.key === 'Enter' && this.selected >= 0) this.onOpen(this.rows[this.selected]!);
    else return;
    e.preventDefault();
  }
}
