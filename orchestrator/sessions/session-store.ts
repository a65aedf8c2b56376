/**
 * The sessions directory: one `<name>.db` (+ `-wal`, `-shm`) and one `<name>.files/` per
 * session. Lists, shows, opens, records, deletes and exports sessions; backs
 * `orrery sessions list|show|export|delete` and the dashboard's sessions view.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, ensurePrivateDir } from '../core/runtime-dir.ts';
import { TarGzWriter } from './archive.ts';
import { checkResultFile } from './result-files.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { SessionError, SessionInUseError, SessionNotFoundError, SessionUnreadableError } from './session-errors.ts';
import { writeSessionLabels, type SessionLabelsPatch } from './session-labels.ts';
import { isRecordingLive } from './session-liveness.ts';
import { defaultSessionsDir, sessionPaths, SESSION_NAME, type SessionPaths } from './session-paths.ts';
import { SessionReader } from './session-reader.ts';
import { SessionRecorder, type RecorderOptions } from './session-recorder.ts';
import type { CostSummary, SessionRow } from '../protocol/state-rows.ts';
import type { SessionLabels, SessionMetadata, SessionSummary } from './session-types.ts';

/** One line of `sessions list` (the row type the dashboard shares). An unreadable file is listed with `status: 'unreadable'` and `error`. */
export type SessionListing = SessionRow;

/** `sessions show`: metadata, summary and where the files are. */
export interface SessionDetails extends SessionMetadata {
  readonly file: string;
  readonly filesDir: string;
  readonly sizeBytes: number;
  readonly summary: SessionSummary;
  /** Cost its tasks reported, in all and per backend. */
  readonly cost: CostSummary;
}

/** What `export` wrote. */
export interface ExportResult {
  readonly file: string;
  readonly bytes: number;
  /** Archive entries, directories included. */
  readonly entries: number;
  /** Result files the database names but the archive leaves out, and why (also listed in its manifest.json). */
  readonly skipped: readonly SkippedResultFile[];
}

/** A result file an export left out: its name as the database gives it, and why. */
export interface SkippedResultFile {
  readonly file: string;
  readonly reason: string;
}

/** Format tag written into every export's manifest.json. */
export const EXPORT_FORMAT = 'orrery-session-archive';

/** A sessions directory. */
export class SessionStore {
  /** Absolute path of the sessions directory. */
  readonly dir: string;

  /** `dir` defaults to `~/.orrery/sessions`; it is created (mode 0700) on first write. */
  constructor(opts: { dir?: string } = {}) {
    this.dir = opts.dir ?? defaultSessionsDir();
  }

  /** The files of session `name` (throws TypeError for an invalid name). */
  paths(name: string): SessionPaths {
    return sessionPaths(this.dir, name);
  }

  /** True when session `name` has a database file. */
  exists(name: string): boolean {
    return existsSync(this.paths(name).db);
  }

  /** Every session, newest first. Unreadable files are listed, not thrown. */
  list(): SessionListing[] {
    if (!existsSync(this.dir)) return [];
    const names = readdirSync(this.dir)
      .filter((f) => f.endsWith('.db'))
      .map((f) => f.slice(0, -3))
      .filter((n) => SESSION_NAME.test(n));
    const out: SessionListing[] = [];
    for (const name of names) {
      const p = this.paths(name);
      const sizeBytes = sizeOnDisk(p);
      try {
        const r = SessionReader.open(p.db);
        try {
          const m = r.metadata();
          const s = r.summary();
          const cost = r.cost();
          out.push({
            name,
            file: p.db,
            createdAt: m.createdAt,
            endedAt: m.endedAt,
            status: m.status,
            taskCounts: s.byState,
            totalTasks: s.total,
            sizeBytes,
            title: m.title,
            notes: m.notes,
            tags: m.tags,
            ...(cost.tasks > 0 ? { costUsd: cost.totalUsd } : {}),
          });
        } finally {
          r.close();
        }
      } catch (err) {
        if (!(err instanceof SessionError)) throw err;
        out.push({
          name,
          file: p.db,
          createdAt: statSync(p.db).mtimeMs,
          endedAt: null,
          status: 'unreadable',
          taskCounts: {},
          totalTasks: 0,
          sizeBytes,
          error: err.message,
          title: null,
          notes: '',
          tags: [],
        });
      }
    }
    return out.sort((a, b) => b.createdAt - a.createdAt || a.name.localeCompare(b.name));
  }

  /** Metadata and summary of one session. Throws SessionNotFoundError or the open errors. */
  show(name: string): SessionDetails {
    const p = this.paths(name);
    const r = this.open(name);
    try {
      return {
        ...r.metadata(),
        file: p.db,
        filesDir: p.filesDir,
        sizeBytes: sizeOnDisk(p),
        summary: r.summary(),
        cost: r.cost(),
      };
    } finally {
      r.close();
    }
  }

  /**
   * Changes the title, notes or tags of session `name` (the fields `patch` names; see
   * validateLabelsPatch) and returns its labels. The name and file stay as they are, so
   * `--resume`, `sessions show` and links keep working. Allowed while a head records it.
   */
  label(name: string, patch: SessionLabelsPatch): SessionLabels {
    const p = this.paths(name);
    if (!existsSync(p.db)) throw new SessionNotFoundError(name, p.db);
    return writeSessionLabels(p.db, patch);
  }

  /** Opens a session read-only (the caller closes it). */
  open(name: string): SessionReader {
    const p = this.paths(name);
    if (!existsSync(p.db)) throw new SessionNotFoundError(name, p.db);
    return SessionReader.open(p.db);
  }

  /** Starts recording session `name` (see RecorderOptions; `resume` continues an existing one). */
  record(name: string, opts: Omit<RecorderOptions, 'dir' | 'name'>): SessionRecorder {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return SessionRecorder.open({ ...opts, dir: this.dir, name });
  }

  /**
   * Deletes a session's database, WAL, shared-memory file and results directory. Refuses a
   * session a live head is recording (SessionInUseError), a foreign SQLite file and one from a
   * newer Orrery; a damaged file is deleted, since the user named it.
   */
  delete(name: string): void {
    const p = this.paths(name);
    if (!existsSync(p.db) && !existsSync(p.filesDir)) throw new SessionNotFoundError(name, p.db);
    if (existsSync(p.db)) {
      let m: SessionMetadata | undefined;
      try {
        const r = SessionReader.open(p.db);
        try {
          m = r.metadata();
        } finally {
          r.close();
        }
      } catch (err) {
        // Foreign files and newer sessions are refused; only a damaged file may go unchecked.
        if (!(err instanceof SessionUnreadableError)) throw err;
      }
      if (m && isRecordingLive({ status: m.storedStatus, pid: m.pid, hostname: m.hostname })) {
        throw new SessionInUseError(name, p.db, m.pid, m.hostname);
      }
    }
    for (const f of [p.db, p.wal, p.shm]) rmSync(f, { force: true });
    rmSync(p.filesDir, { recursive: true, force: true });
  }

  /**
   * Writes session `name` to one .tar.gz: `<name>/manifest.json`, `<name>/<name>.db` (a
   * consistent snapshot, safe while the session is being recorded) and the results files the
   * snapshot refers to under `<name>/<name>.files/`. Only plain file names of regular files
   * inside the session's results folder are archived; any other name the database gives (a
   * path, `..`, a symlink) is skipped, listed in `skipped` and in the manifest's
   * `skippedResultFiles`.
   */
  async export(name: string, outFile: string): Promise<ExportResult> {
    const p = this.paths(name);
    const reader = this.open(name);
    const tmp = mkdtempSync(join(ensurePrivateDir(dataRoot()), 'export-'));
    const tar = new TarGzWriter(outFile);
    const skipped: SkippedResultFile[] = [];
    let entries = 0;
    try {
      const snapshot = join(tmp, `${name}.db`);
      reader.snapshotTo(snapshot);
      const meta = reader.metadata();
      const files: { name: string; path: string; size: number; mtimeMs: number }[] = [];
      for (const f of reader.resultFiles()) {
        const checked = checkResultFile(p.filesDir, f);
        if ('reason' in checked) skipped.push({ file: f, reason: checked.reason });
        else files.push({ name: f, ...checked });
      }
      const manifest = {
        format: EXPORT_FORMAT,
        formatVersion: 1,
        name,
        exportedAt: Date.now(),
        schemaVersion: reader.schemaVersion,
        writerSchemaVersion: SCHEMA_VERSION,
        status: meta.status,
        orreryVersion: meta.orreryVersion,
        resultFiles: files.length,
        ...(skipped.length > 0 ? { skippedResultFiles: skipped } : {}),
      };
      await tar.addDirectory(name);
      await tar.addBuffer(`${name}/manifest.json`, Buffer.from(JSON.stringify(manifest, null, 2)));
      const st = statSync(snapshot);
      await tar.addFile(`${name}/${name}.db`, snapshot, st.size, st.mtimeMs);
      entries += 3;
      if (files.length > 0) {
        await tar.addDirectory(`${name}/${name}.files`);
        entries += 1;
        for (const f of files) {
          await tar.addFile(`${name}/${name}.files/${f.name}`, f.path, f.size, f.mtimeMs);
          entries += 1;
        }
      }
      await tar.finish();
    } catch (err) {
      await tar.abort();
      throw err;
    } finally {
      reader.close();
      rmSync(tmp, { recursive: true, force: true });
    }
    return { file: outFile, bytes: statSync(outFile).size, entries, skipped };
  }
}

function sizeOnDisk(p: SessionPaths): number {
  let total = 0;
  for (const f of [p.db, p.wal, p.shm]) if (existsSync(f)) total += statSync(f).size;
  if (existsSync(p.filesDir)) {
    for (const f of readdirSync(p.filesDir)) {
      const st = lstatSync(join(p.filesDir, f));
      if (st.isFile()) total += st.size;
    }
  }
  return total;
}
