/**
 * A session's labels in the Sessions tab: its display name (a title, with the file name under
 * it), tags as chips, the first line of its notes; the filter over them (`tag:NAME` for a tag,
 * any other word searches name, title, notes and tags); and the panel that edits them through
 * PATCH /api/sessions/:name. The file name never changes, so Open, Resume and the CLI keep it.
 */
import type { App } from '../app.ts';
import type { SessionRow } from '../api-types.ts';
import { h, replace } from '../dom.ts';
import { api, HeadRequestError } from '../head-client.ts';

/** The name cell: title and file name (or the name alone), tags and the first line of the notes. */
export function labelCell(r: SessionRow, onTag: (tag: string) => void, extra?: Node | null): HTMLElement {
  const firstLine = r.notes.split('\n').find((l) => l.trim() !== '') ?? '';
  return h(
    'td',
    { 'data-col': 'name', class: 'session-name' },
    h(
      'div',
      {},
      h('span', { class: 'session-title', 'data-testid': 'session-title' }, r.title ?? r.name),
      extra ?? null,
    ),
    r.title ? h('div', { class: 'session-file', title: 'session name (its file name)' }, r.name) : null,
    firstLine ? h('div', { class: 'session-notes', 'data-testid': 'session-notes', title: r.notes }, firstLine) : null,
    r.tags.length
      ? h(
          'div',
          { class: 'tags', 'data-testid': 'session-tags' },
          ...r.tags.map((t) =>
            h('button', { class: 'tag', title: `Show sessions tagged ${t}`, onclick: () => onTag(t) }, t),
          ),
        )
      : null,
  );
}

/** True when the row matches every word of `query` (`tag:x` needs the tag x; case is ignored). */
export function matchesFilter(r: SessionRow, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const tags = r.tags.map((t) => t.toLowerCase());
  const text = [r.name, r.title ?? '', r.notes, ...r.tags].join('\n').toLowerCase();
  return words.every((w) => (w.startsWith('tag:') && w.length > 4 ? tags.includes(w.slice(4)) : text.includes(w)));
}

/** Opens the side panel that edits a session's title, notes and tags; `saved` gets the updated row. */
export function editLabels(app: App, r: SessionRow, saved: (row: SessionRow) => void): void {
  const title = h('input', {
    type: 'text',
    value: r.title ?? '',
    placeholder: r.name,
    maxlength: 120,
    'aria-label': 'Title',
    'data-testid': 'label-title',
  });
  const notes = h('textarea', { rows: 8, 'aria-label': 'Notes', 'data-testid': 'label-notes' });
  notes.value = r.notes;
  const tags = [...r.tags];
  const chips = h('div', { class: 'tags', 'data-testid': 'label-tags' });
  const newTag = h('input', {
    type: 'text',
    placeholder: 'new tag',
    'aria-label': 'New tag',
    'data-testid': 'label-new-tag',
  });
  const message = h('div', { class: 'message', role: 'status', 'data-testid': 'label-message' });
  const drawChips = () =>
    replace(
      chips,
      ...tags.map((t) =>
        h(
          'span',
          { class: 'tag', 'data-tag': t },
          t,
          h(
            'button',
            {
              class: 'tag-remove',
              'aria-label': `Remove tag ${t}`,
              onclick: () => {
                tags.splice(tags.indexOf(t), 1);
                drawChips();
              },
            },
            '×',
          ),
        ),
      ),
      tags.length ? null : h('span', { class: 'hint' }, 'no tags'),
    );
  const addTag = () => {
    for (const t of newTag.value.split(/[\s,]+/).filter(Boolean)) if (!tags.includes(t)) tags.push(t);
    newTag.value = '';
    drawChips();
  };
  newTag.onkeydown = (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      addTag();
    }
  };
  const save = async () => {
    if (newTag.value.trim()) addTag();
    message.className = 'message';
    message.textContent = 'Saving…';
    try {
      const row = await api<SessionRow>(`sessions/${encodeURIComponent(r.name)}`, {
        method: 'PATCH',
        body: { title: title.value, notes: notes.value, tags },
      });
      message.textContent = 'Saved.';
      saved(row);
    } catch (err) {
      message.className = 'message error';
      message.textContent =
        err instanceof HeadRequestError ? `Not saved: ${err.message}` : `Not saved: ${(err as Error).message}`;
    }
  };
  drawChips();
  app.openPanel(
    `Labels of ${r.name}`,
    h(
      'div',
      { class: 'label-form' },
      h('label', { class: 'label-field' }, 'Title', title),
      h('label', { class: 'label-field' }, 'Notes', notes),
      h('div', {}, 'Tags', chips),
      h(
        'div',
        { class: 'toolbar' },
        newTag,
        h('button', { onclick: addTag, 'data-testid': 'label-add-tag' }, 'Add tag'),
      ),
      h('p', { class: 'hint' }, `The session keeps its name ${r.name}: Open, Resume and orrery sessions use it.`),
      h(
        'div',
        { class: 'toolbar' },
        h('button', { class: 'primary', onclick: () => void save(), 'data-testid': 'label-save' }, 'Save'),
      ),
      message,
    ),
  );
}
