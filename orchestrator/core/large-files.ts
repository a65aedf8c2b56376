/**
 * Whole-file writes and reads of any size. Node's fs calls move at most 2 GiB - 1 per call
 * (writeFileSync of a larger buffer throws ERR_OUT_OF_RANGE; readFile refuses files over 2 GiB),
 * so values past that go in chunks.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Bytes per read or write call: well under the 2 GiB - 1 a call may move. */
const CHUNK = 1 << 30;

/** Writes `data` to a new file at `path` (`flag`/`mode` as for fs.openSync). */
export function writeWholeFileSync(path: string, data: Uint8Array, opts: { flag: string; mode: number }): void {
  const fd = openSync(path, opts.flag, opts.mode);
  try {
    for (let at = 0; at < data.byteLength; ) at += writeSync(fd, data, at, Math.min(CHUNK, data.byteLength - at));
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to a new file at `path` without blocking. */
export async function writeWholeFile(
  path: string,
  data: Uint8Array,
  opts: { flag: string; mode: number },
): Promise<void> {
  const file = await open(path, opts.flag, opts.mode);
  try {
    for (let at = 0; at < data.byteLength; ) {
      const { bytesWritten } = await file.write(data, at, Math.min(CHUNK, data.byteLength - at));
      at += bytesWritten;
    }
  } finally {
    await file.close();
  }
}

/** The whole file at `path`, in one buffer. */
export function readWholeFileSync(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    return readWholeFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** The whole file open as `fd` (named `path` in errors), in one buffer. */
export function readWholeFd(fd: number, path: string): Buffer {
  const buf = Buffer.allocUnsafe(fstatSync(fd).size);
  for (let at = 0; at < buf.length; ) {
    const n = readSync(fd, buf, at, Math.min(CHUNK, buf.length - at), at);
    if (n === 0) throw new Error(`${path} ended after ${at} of ${buf.length} bytes (changed while read)`);
    at += n;
  }
  return buf;
}

/** The whole file at `path`, in one buffer, without blocking. */
export async function readWholeFile(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe((await file.stat()).size);
    for (let at = 0; at < buf.length; ) {
      const { bytesRead } = await file.read(buf, at, Math.min(CHUNK, buf.length - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended after ${at} of ${buf.length} bytes (changed while read)`);
      at += bytesRead;
    }
    return buf;
  } finally {
    await file.close();
  }
}
