/**
 * Ids shown short: task, node and actor ids of one run share their first characters (the job
 * or head prefix), so the distinguishing part is the end. A short id keeps the last characters
 * behind an ellipsis, with the full id in its tooltip; where there is room (the task panel) the
 * full id is shown, with a button that copies it.
 */
import { h } from './dom.ts';

/** Characters kept from the end of an id. */
export const SHORT_ID_CHARS = 8;

/** `…3f9a2c1d` for a long id; a short id unchanged. */
export function shortId(id: string | undefined): string {
  if (!id) return '';
  return id.length <= SHORT_ID_CHARS + 1 ? id : `…${id.slice(-SHORT_ID_CHARS)}`;
}

/** A button that copies a full id (where the clipboard is refused, it selects `select`'s text instead). */
export function copyButton(id: string, select?: HTMLElement): HTMLButtonElement {
  const copy = h(
    'button',
    {
      class: 'copy-id',
      type: 'button',
      title: `Copy ${id}`,
      'aria-label': `Copy id ${id}`,
      onclick: () => {
        const copied = navigator.clipboard?.writeText(id) ?? Promise.reject(new Error('no clipboard'));
        void copied.then(
          () => (copy.textContent = 'copied'),
          () => select && selectText(select),
        );
      },
    },
    'copy',
  );
  return copy;
}

/** Selects an element's text, for the user to copy. */
function selectText(el: HTMLElement): void {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}
