/**
 * The session export format: a gzip-compressed POSIX ustar archive, written by a small writer
 * here (no dependency). Entries stream through zlib with backpressure, so large result files are
 * never held in memory. The archive is written under a temporary name and renamed when complete.
 */
import { constants, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';

const BLOCK = 512;
/** ustar's 11 octal digits of size: entries must be under 8 GiB. */
const MAX_ENTRY_BYTES = 8 ** 11 - 1;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a path into ustar's `prefix` (≤155 bytes) and `name` (≤100 bytes) fields. */
function splitName(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return [prefix, name];
  }
  throw new RangeError(`archive path ${path} is too long for a ustar archive (name 100 bytes, prefix 155 bytes)`);
}

/** Builds one 512-byte ustar header. `type` is '0' (file) or '5' (directory). */
export function ustarHeader(path: string, size: number, type: '0' | '5', mode: number, mtimeS: number): Buffer {
  if (size > MAX_ENTRY_BYTES)
    throw new RangeError(`archive entry ${path} is ${size} bytes; ustar entries must be under 8 GiB`);
  const [prefix, name] = splitName(path);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(Math.floor(mtimeS), 12), 136, 12, 'ascii');
  h.fill(' ', 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('orrery', 265, 32, 'ascii');
  h.write('orrery', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)} `, 148, 8, 'ascii');
  return h;
}

/** Writes a .tar.gz file entry by entry. Call `finish()` to complete it, or `abort()` to discard it. */
export class TarGzWriter {
  private readonly gzip: Gzip;
  private readonly done: Promise<void>;
  private readonly temp: string;

  constructor(readonly outFile: string) {
    this.temp = `${outFile}.partial-${process.pid}`;
    this.gzip = createGzip();
    this.done = pipeline(this.gzip, createWriteStream(this.temp, { mode: 0o600 }));
    // pipeline's rejection is awaited in finish/abort; keep it from surfacing as unhandled meanwhile.
    this.done.catch(() => undefined);
  }

  /** Adds a directory entry. */
  async addDirectory(path: string, mtimeMs = Date.now()): Promise<void> {
    await this.write(ustarHeader(path.endsWith('/') ? path : `${path}/`, 0, '5', 0o700, mtimeMs / 1000));
  }

  /** Adds a file entry from memory. */
  async addBuffer(path: string, data: Uint8Array, mtimeMs = Date.now()): Promise<void> {
    await this.write(ustarHeader(path, data.byteLength, '0', 0o600, mtimeMs / 1000));
    await this.write(data);
    await this.pad(data.byteLength);
  }

  /** Adds a file entry streamed from disk (never through a symlink); `size` must be the file's size (it is checked). */
  async addFile(path: string, source: string, size: number, mtimeMs = Date.now()): Promise<void> {
    await this.write(ustarHeader(path, size, '0', 0o600, mtimeMs / 1000));
    let written = 0;
    const fh = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      for await (const chunk of fh.createReadStream({ autoClose: false })) {
        const buf = chunk as Buffer;
        if (written + buf.byteLength > size) throw new Error(`${source} grew while it was archived; export again`);
        written += buf.byteLength;
        await this.write(buf);
      }
    } finally {
      await fh.close();
    }
    if (written !== size) throw new Error(`${source} shrank while it was archived; export again`);
    await this.pad(size);
  }

  /** Writes the end-of-archive blocks, flushes, and renames the archive into place. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    this.gzip.end();
    await this.done;
    await rename(this.temp, this.outFile);
  }

  /** Stops writing and removes the partial archive. */
  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.done.catch(() => undefined);
    await rm(this.temp, { force: true });
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.write(Buffer.alloc(BLOCK - rest));
  }

  private async write(chunk: Uint8Array): Promise<void> {
    if (!this.gzip.write(chunk)) await Promise.race([once(this.gzip, 'drain'), this.done]);
  }
}
