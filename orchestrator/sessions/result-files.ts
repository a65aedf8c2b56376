/**
 * Large results live as files beside the database. A file is written under a temporary name
 * and renamed into place after it is synced, so a reader never sees half a result and the
 * database only points at complete files. The database is only data, so a name read back from
 * it is checked before use: a plain file name, a regular file (not a symlink) directly inside
 * the session's results folder, which must itself be a real folder.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, realpathSync, type Stats } from 'node:fs';
import { readWholeFd } from '../core/large-files.ts';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

let tempCounter = 0;

/** Writes `bytes` to `dir/fileName` atomically (temp file, fsync, rename); removes the temp file on failure. */
export async function writeResultFile(dir: string, fileName: string, bytes: Uint8Array): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, fileName);
  tempCounter += 1;
  const temp = join(dir, `.${fileName}.tmp-${process.pid}-${tempCounter}`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, 'wx', 0o600);
    await fh.writeFile(bytes);
    await fh.datasync();
    await fh.close();
    fh = undefined;
    await rename(temp, target);
    return target;
  } catch (err) {
    await fh?.close().catch(() => undefined);
    // The partial temp file would keep the disk full for every later write.
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** A stored result file name checked against the results folder: its path and size, or why it may not be read. */
export type CheckedResultFile =
  | { readonly path: string; readonly size: number; readonly mtimeMs: number }
  | { readonly reason: string };

/** Checks a result file name the database gave; never follows a symlink. */
export function checkResultFile(filesDir: string, name: string): CheckedResultFile {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name))
    return { reason: 'it is not a plain file name inside the results folder' };
  const dir = lstatOrUndefined(filesDir);
  if (!dir) return { reason: `the results folder ${filesDir} does not exist` };
  if (dir.isSymbolicLink()) return { reason: `the results folder ${filesDir} is a symlink` };
  if (!dir.isDirectory()) return { reason: `the results folder ${filesDir} is not a folder` };
  const path = join(filesDir, name);
  const st = lstatOrUndefined(path);
  if (!st) return { reason: 'it does not exist' };
  if (st.isSymbolicLink()) return { reason: 'it is a symlink' };
  if (!st.isFile()) return { reason: 'it is not a regular file' };
  if (dirname(realpathSync(path)) !== realpathSync(filesDir))
    return { reason: 'it resolves to a path outside the results folder' };
  return { path, size: st.size, mtimeMs: st.mtimeMs };
}

/** Reads a checked result file without following a symlink put in its place meanwhile. */
export function readCheckedFile(path: string): Uint8Array {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    return new Uint8Array(readWholeFd(fd, path));
  } finally {
    closeSync(fd);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}
