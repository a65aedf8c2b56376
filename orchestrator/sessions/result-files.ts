/**
 * Large results live as files beside the database. A file is written under a temporary name
 * and renamed into place after it is synced, so a reader never sees half a result and the
 * database only points at complete files.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

let tempCounter = 0;

/** Writes `bytes` to `dir/fileName` atomically (temp file, fsync, rename); removes the temp file on failure. */
export async function writeResultFile(dir: string, fileName: string, bytes: Uint8Array): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, fileName);
  tempCounter += 1;
  const temp = join(dir, `.${fileName}.tmp-${process.pid}-${tempCounter}`);
  let fh;
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
