/**
 * Looking for secret values where they must not be: in every regular file under a directory
 * (an SQLite database and its WAL are read as bytes), in an exported archive (extracted with the
 * system's tar), and in text such as API replies and command output.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every regular file under `dir` (symlinks and sockets are left out). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** `where: value` for each value found in `bytes`, as UTF-8 or UTF-16LE. */
export function findIn(where: string, bytes: Buffer | string, values: Readonly<Record<string, string>>): string[] {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const hits: string[] = [];
  for (const [label, v] of Object.entries(values)) {
    if (buf.includes(Buffer.from(v, 'utf8')) || buf.includes(Buffer.from(v, 'utf16le')))
      hits.push(`${where}: ${label}`);
  }
  return hits;
}

/** The values found in any file under `dir`. */
export function findInFiles(dir: string, values: Readonly<Record<string, string>>): string[] {
  return filesUnder(dir).flatMap((f) => findIn(f, readFileSync(f), values));
}

/** Extracts a .tar.gz (with the system's tar) and returns the values found in any of its files, and how many files it held. */
export function findInArchive(
  archive: string,
  values: Readonly<Record<string, string>>,
): { hits: string[]; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-archive-scan-'));
  try {
    execFileSync('tar', ['-xzf', archive, '-C', dir]);
    const files = filesUnder(dir);
    return {
      hits: files.flatMap((f) => findIn(`${archive}:${f.slice(dir.length)}`, readFileSync(f), values)),
      files: files.map((f) => f.slice(dir.length + 1)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
