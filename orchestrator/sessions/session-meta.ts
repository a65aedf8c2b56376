/** The `meta` table: session-wide facts stored as JSON values under fixed keys. */
import type Database from 'better-sqlite3';
import { isRecordingLive } from './session-liveness.ts';
import type { SessionLabels, SessionMetadata, SessionStatus } from './session-types.ts';

/** Keys of the `meta` table and the types of their values. */
export interface StoredMeta {
  name: string;
  createdAt: number;
  endedAt: number | null;
  status: SessionStatus;
  orreryVersion: string;
  pid: number;
  hostname: string;
  config: unknown;
  placementRules: unknown;
  strippedConfigKeys: string[];
  /** Labels a person gave the session (session-labels.ts); never written by the recorder. */
  title: string;
  notes: string;
  tags: string[];
}

/** Reads every meta key (missing ones come back undefined). */
export function readStoredMeta(db: Database.Database): Partial<StoredMeta> {
  const out: Record<string, unknown> = {};
  for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) {
    try {
      out[row.key] = JSON.parse(row.value);
    } catch {
      out[row.key] = row.value;
    }
  }
  return out as Partial<StoredMeta>;
}

/** Writes the given meta keys in one transaction. */
export function writeStoredMeta(db: Database.Database, values: Partial<StoredMeta>): void {
  const put = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  db.transaction(() => {
    for (const [k, v] of Object.entries(values)) if (v !== undefined) put.run(k, JSON.stringify(v));
  })();
}

/** Public metadata: a `running` session whose recording process is gone reads as `crashed`. */
export function toMetadata(stored: Partial<StoredMeta>, fallbackName: string, schemaVersion: number): SessionMetadata {
  const storedStatus = stored.status ?? 'crashed';
  const pid = stored.pid ?? 0;
  const host = stored.hostname ?? '';
  const live = isRecordingLive({ status: storedStatus, pid, hostname: host });
  return {
    name: stored.name ?? fallbackName,
    createdAt: stored.createdAt ?? 0,
    endedAt: stored.endedAt ?? null,
    status: storedStatus === 'running' && !live ? 'crashed' : storedStatus,
    storedStatus,
    orreryVersion: stored.orreryVersion ?? 'unknown',
    pid,
    hostname: host,
    config: stored.config ?? null,
    placementRules: stored.placementRules ?? null,
    strippedConfigKeys: stored.strippedConfigKeys ?? [],
    schemaVersion,
    ...labelsOf(stored),
  };
}

/** The labels in a meta table's values (missing or malformed ones read as empty). */
export function labelsOf(stored: { title?: unknown; notes?: unknown; tags?: unknown }): SessionLabels {
  return {
    title: typeof stored.title === 'string' && stored.title !== '' ? stored.title : null,
    notes: typeof stored.notes === 'string' ? stored.notes : '',
    tags: Array.isArray(stored.tags) ? stored.tags.filter((t): t is string => typeof t === 'string') : [],
  };
}
