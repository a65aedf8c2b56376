/**
 * A session's labels: the display title, free notes and tags a person gives it after the run.
 * They live in the session's `meta` table (keys `title`, `notes`, `tags`), so they travel with
 * an export; the file name (the session's name, which `--resume`, `sessions show` and the API
 * use) never changes. Writing them opens the file for this one transaction and never migrates
 * it, so an older Orrery still reads a labelled session.
 */
import Database from 'better-sqlite3';
import { openSessionDb } from './schema.ts';
import { labelsOf, readStoredMeta, writeStoredMeta } from './session-meta.ts';
import type { SessionLabels } from './session-types.ts';

/** Longest title, in characters. */
export const MAX_TITLE_CHARS = 120;
/** Longest notes, in characters. */
export const MAX_NOTES_CHARS = 10_000;
/** Most tags per session. */
export const MAX_TAGS = 24;
/** A tag: 1 to 40 letters, digits, `.`, `_`, `-`, `:`, `/`, `+`, `=`, `@` (no spaces or commas, so a list reads unambiguously). */
export const TAG = /^[\p{L}\p{N}._:/+=@-]{1,40}$/u;
const TAG_RULE = '1 to 40 letters, digits, ".", "_", "-", ":", "/", "+", "=" or "@"';

/** A change of labels: each field left out stays as it is; a `null` or empty title clears it. */
export interface SessionLabelsPatch {
  readonly title?: string | null;
  readonly notes?: string;
  readonly tags?: readonly string[];
}

/** A bad labels patch: `field` names the field (`title`, `notes`, `tags`, `tags[2]`). */
export class SessionLabelsError extends TypeError {
  override readonly name = 'SessionLabelsError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Checks a patch from outside (the dashboard's PATCH body, CLI options) and normalizes it:
 * a title is trimmed (empty -> null), tags are trimmed, kept in order and deduplicated.
 * Throws SessionLabelsError naming the first bad field.
 */
export function validateLabelsPatch(body: unknown): SessionLabelsPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new SessionLabelsError('body', 'send a JSON object { title?, notes?, tags? }');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => k !== 'title' && k !== 'notes' && k !== 'tags');
  if (unknown.length > 0)
    throw new SessionLabelsError(
      'body',
      `${JSON.stringify(unknown[0])} is not a session label; use title, notes or tags`,
    );
  const out: { title?: string | null; notes?: string; tags?: string[] } = {};
  if (Object.hasOwn(b, 'title')) {
    if (b.title !== null && typeof b.title !== 'string')
      throw new SessionLabelsError('title', 'must be a string (or null to show the session by its name)');
    const t = b.title === null ? '' : b.title.trim();
    if (t.length > MAX_TITLE_CHARS)
      throw new SessionLabelsError('title', `is ${t.length} characters; keep it to ${MAX_TITLE_CHARS}`);
    if (/[\p{Cc}]/u.test(t)) throw new SessionLabelsError('title', 'must be one line without control characters');
    out.title = t === '' ? null : t;
  }
  if (Object.hasOwn(b, 'notes')) {
    if (typeof b.notes !== 'string') throw new SessionLabelsError('notes', 'must be a string');
    if (b.notes.length > MAX_NOTES_CHARS)
      throw new SessionLabelsError('notes', `are ${b.notes.length} characters; keep them to ${MAX_NOTES_CHARS}`);
    out.notes = b.notes.replace(/\r\n?/g, '\n');
  }
  if (Object.hasOwn(b, 'tags')) {
    if (!Array.isArray(b.tags)) throw new SessionLabelsError('tags', 'must be an array of strings');
    const tags: string[] = [];
    b.tags.forEach((raw, i) => {
      const t = typeof raw === 'string' ? raw.trim() : raw;
      if (typeof t !== 'string' || !TAG.test(t))
        throw new SessionLabelsError(`tags[${i}]`, `${JSON.stringify(raw)} is not a tag: use ${TAG_RULE}`);
      if (!tags.includes(t)) tags.push(t);
    });
    if (tags.length > MAX_TAGS) throw new SessionLabelsError('tags', `has ${tags.length} tags; keep it to ${MAX_TAGS}`);
    out.tags = tags;
  }
  return out;
}

/**
 * Applies a validated patch to the session file `file` and returns the labels it now has. The
 * file is first checked as a reader would (Orrery's id, a known schema) and then written through
 * its own connection, which SQLite's WAL lets run beside a head that is recording the session.
 */
export function writeSessionLabels(file: string, patch: SessionLabelsPatch): SessionLabels {
  openSessionDb(file, 'read').db.close();
  const db = new Database(file, { fileMustExist: true, timeout: 10_000 });
  try {
    writeStoredMeta(db, {
      ...(patch.title !== undefined ? { title: patch.title ?? '' } : {}),
      ...(patch.notes !== undefined ? { notes: patch.notes } : {}),
      ...(patch.tags !== undefined ? { tags: [...patch.tags] } : {}),
    });
    return labelsOf(readStoredMeta(db));
  } finally {
    db.close();
  }
}
