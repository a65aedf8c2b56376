/**
 * A table for 100,000+ rows: fixed row height, and only the rows in view (plus a few) exist in
 * the DOM. Keyboard: arrows / PageUp / PageDown / Home / End move the selection, Enter opens it.
 * With a {@link RowChecks}, a first column of checkboxes picks rows for bulk actions: a click
 * toggles one, Shift+click a range, the header's box all rows shown (after filters), Space the
 * focused row. Picked rows are a Set of keys, so picking stays cheap at 100,000 rows.
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

/** Rows picked with checkboxes, by key; the owner keeps the set and hears of every change. */
export interface RowChecks<T> {
  key(row: T): string;
  readonly picked: Set<string>;
  changed(): void;
}

const ROW_HEIGHT = 24;
const CHECK_WIDTH = '2rem';
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
  /** The header's "all shown rows" box (with checks only). */
  private readonly allBox: HTMLInputElement | undefined;
  /**
   * The row of the last checkbox click, by key (rows shift as the live feed refilters them): a
   * Shift+click picks the range from there.
   */
  private anchor: string | undefined;

  constructor(
    private readonly columns: readonly Column<T>[],
    private readonly onOpen: (row: T) => void,
    label: string,
    private readonly checks?: RowChecks<T>,
  ) {
    this.template = [...(checks ? [CHECK_WIDTH] : []), ...columns.map((c) => c.width)].join(' ');
    this.allBox = checks
      ? h('input', {
          type: 'checkbox',
          'aria-label': 'Select all rows shown',
          'data-testid': 'select-all',
          onclick: () => this.pickAll(this.allBox!.checked),
        })
      : undefined;
    const header = h(
      'div',
      { class: 'vt-row vt-head', role: 'row', style: `grid-template-columns:${this.template}` },
      this.allBox ? h('div', { role: 'columnheader', class: 'vt-check' }, this.allBox) : null,
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
    this.updateAllBox();
  }

  /** Redraws the checkboxes after the picked set changed outside (cleared after an action). */
  refreshChecks(): void {
    this.draw();
    this.updateAllBox();
  }

  /** The header box: checked when every row shown is picked, mixed when some are. */
  private updateAllBox(): void {
    if (!this.checks || !this.allBox) return;
    let n = 0;
    if (this.checks.picked.size > 0) for (const r of this.rows) if (this.checks.picked.has(this.checks.key(r))) n++;
    this.allBox.checked = n > 0 && n === this.rows.length;
    this.allBox.indeterminate = n > 0 && n < this.rows.length;
  }

  private pickAll(on: boolean): void {
    if (!this.checks) return;
    for (const r of this.rows) {
      if (on) this.checks.picked.add(this.checks.key(r));
      else this.checks.picked.delete(this.checks.key(r));
    }
    this.afterPick();
  }

  /** Checkbox `index` clicked (Shift: the range from the last one clicked takes its new value). */
  private pick(index: number, shift: boolean): void {
    if (!this.checks) return;
    const key = this.checks.key(this.rows[index]!);
    const on = !this.checks.picked.has(key);
    const checks = this.checks;
    const anchor = shift && this.anchor !== undefined ? this.rows.findIndex((r) => checks.key(r) === this.anchor) : -1;
    const from = anchor >= 0 ? Math.min(anchor, index) : index;
    const to = anchor >= 0 ? Math.max(anchor, index) : index;
    for (let i = from; i <= to; i++) {
      const k = this.checks.key(this.rows[i]!);
      if (on) this.checks.picked.add(k);
      else this.checks.picked.delete(k);
    }
    this.anchor = key;
    this.afterPick();
  }

  private afterPick(): void {
    this.draw();
    this.updateAllBox();
    this.checks?.changed();
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
    while (kids.length < needed) {
      const row = h('div', { class: 'vt-row', role: 'row', style: `grid-template-columns:${this.template}` });
      if (this.checks) {
        const box = h('input', { type: 'checkbox', tabindex: -1 });
        box.addEventListener('click', (e) => {
          // The browser toggles the box itself; the row's own click (the cursor) is not wanted.
          e.stopPropagation();
          this.pick(Number(row.dataset.index), (e as MouseEvent).shiftKey);
        });
        row.append(h('div', { role: 'gridcell', class: 'vt-check' }, box));
      }
      this.body.append(row);
    }
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
      const skip = this.checks ? 1 : 0;
      if (this.checks) {
        const box = el.firstElementChild!.firstElementChild as HTMLInputElement;
        const key = this.checks.key(row);
        const on = this.checks.picked.has(key);
        if (box.checked !== on) box.checked = on;
        el.classList.toggle('picked', on);
        box.setAttribute('aria-label', `Select ${key}`);
      }
      while (el.children.length < this.columns.length + skip) el.append(h('div', { role: 'gridcell' }));
      this.columns.forEach((c, ci) => {
        const cell = el.children[ci + skip] as HTMLElement;
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
    else if (e.key === ' ' && this.checks && this.selected >= 0) this.pick(this.selected, e.shiftKey);
    else return;
    e.preventDefault();
  }
}
