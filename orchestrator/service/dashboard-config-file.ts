/**
 * Writing the dashboard's edits (backends, placement rules) back into the config file the
 * service was started with, so the next `orrery start` has them. The file is read through the
 * one config reader (head/config-file.ts), so an edit is refused, not written over, when the
 * file is one `orrery start` would refuse too; the file is replaced atomically and stays
 * private (0600), since it names keychain secrets (never their values). A file with comments
 * or trailing commas (JSONC) is edited as text so its comments stay (config-file-edits.ts), or
 * the edit is refused with a message saying why; a plain JSON file is rewritten whole.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readConfigDocument } from '../head/config-file.ts';
import { editConfigText, savedList, type ConfigEdit } from './config-file-edits.ts';

export type { ConfigEdit } from './config-file-edits.ts';

/** The config file of a running service. */
export class ConfigFileWriter {
  constructor(
    /** Absolute path; created (0600, its directory 0700) on the first edit. */
    readonly path: string,
  ) {}

  /**
   * Adds backend config `config`, or replaces the one of the same name; `saved`: listed in
   * `savedBackends`, so `orrery start` keeps it saved rather than starting it (else taken off that list).
   */
  putBackend(config: Record<string, unknown>, saved = false): void {
    this.write(this.plan({ op: 'put-backend', config, saved }));
  }

  /** Removes backend `name` (nothing happens when the file does not list it). */
  removeBackend(name: string): void {
    this.write(this.plan({ op: 'remove-backend', name }));
  }

  /** Replaces the placement rules. */
  setPlacementRules(rules: readonly unknown[]): void {
    this.write(this.plan({ op: 'set-placement-rules', rules }));
  }

  /**
   * Throws as the edit would, writing nothing: the dashboard checks an edit before it changes
   * the running head, so a refused edit (a file the reader refuses, a comment it would drop)
   * leaves the head and the file as they were.
   */
  check(edit: ConfigEdit): void {
    this.plan(edit);
  }

  /** The file's new text after `edit`; a file with comments is edited as text, keeping them. */
  private plan(edit: ConfigEdit): string {
    let doc: Record<string, unknown>;
    let text = '';
    try {
      doc = readConfigDocument(this.path) ?? {};
      if (existsSync(this.path)) text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new Error(`${(err as Error).message}; fix it by hand, then try again`);
    }
    applyToDocument(doc, edit, this.path);
    return isPlainJson(text) ? `${JSON.stringify(doc, null, 2)}\n` : editConfigText(text, edit, doc, this.path);
  }

  private write(text: string): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

/** True for no text or plain JSON (no comments, no trailing commas): such a file is rewritten whole. */
function isPlainJson(text: string): boolean {
  try {
    if (text) JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** `edit` applied to the parsed document. */
function applyToDocument(doc: Record<string, unknown>, edit: ConfigEdit, path: string): void {
  if (edit.op === 'set-placement-rules') {
    doc.placementRules = edit.rules;
    return;
  }
  const list = backendsOf(doc, path);
  const name = String(edit.op === 'remove-backend' ? edit.name : edit.config.name);
  if (edit.op === 'remove-backend') doc.backends = list.filter((b) => b.name !== edit.name);
  else {
    const i = list.findIndex((b) => b.name === edit.config.name);
    if (i >= 0) list[i] = edit.config;
    else list.push(edit.config);
    doc.backends = list;
  }
  const old = Array.isArray(doc.savedBackends) ? (doc.savedBackends as unknown[]) : [];
  const saved = savedList(old, name, edit.op === 'put-backend' && edit.saved === true);
  if (saved.length > 0) doc.savedBackends = saved;
  else delete doc.savedBackends;
}

function backendsOf(doc: Record<string, unknown>, path: string): Record<string, unknown>[] {
  const b = doc.backends ?? [];
  if (!Array.isArray(b))
    throw new Error(`config file ${path}: backends must be an array; fix it by hand, then try again`);
  return b as Record<string, unknown>[];
}
