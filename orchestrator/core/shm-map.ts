/**
 * Memory-mapping the files of a node's shared-memory folder (core/shared-memory.ts). Where the
 * small native addon of this package loads (`native/shm-map/`, built for Linux by
 * `npm run build`), a file is mapped copy-on-write into an ArrayBuffer without copying it (Ray's
 * zero-copy reads); elsewhere (macOS without a build, Electron, which refuses external array
 * buffers, or `ORRERY_SHM_NATIVE=0`) the file is read into a fresh buffer: one copy, same values.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readWholeFileSync } from './large-files.ts';
import { packageRoot } from './package-root.ts';

/** The addon's functions (native/shm-map/shm_map.c). */
interface NativeShmMap {
  map(path: string): ArrayBuffer;
  pristine(buffer: ArrayBuffer): boolean;
  /** Makes one external buffer; throws where the runtime refuses them. */
  probe(): ArrayBuffer;
  /** Makes a new file of `bytes` allocated pages on a thread of the pool; `done` hears the error, or null. */
  preallocate(path: string, bytes: number, done: (error: string | null) => void): void;
  /** True when the file has one name and no process holds it open or mapped. */
  reusable(path: string): boolean;
}

/** How shared-memory values are read in this process, for logs and status. */
export type ShmReadMode =
  /** Mapped copy-on-write by the native addon: no copy. */
  | 'mmap'
  /** Read into a fresh buffer: one copy (the addon is missing, refused, or turned off). */
  | 'read';

/** Where the addon is, under the package root. */
const BINARY = join('native', 'shm-map', 'build', `${process.platform}-${process.arch}`, 'shm_map.node');
let native: NativeShmMap | undefined | null;
let why = '';
let built = false;

function load(): NativeShmMap | undefined {
  if (native !== undefined) return native ?? undefined;
  native = null;
  if (process.env.ORRERY_SHM_NATIVE === '0') {
    why = 'ORRERY_SHM_NATIVE=0';
    return undefined;
  }
  try {
    // Inside the agent bundle shipped to ssh hosts there is no package root: those read files.
    const file = join(packageRoot(), BINARY);
    if (!existsSync(file)) {
      why = `${BINARY} is not built here (npm run build builds it with a C compiler)`;
      return undefined;
    }
    built = true;
    const m = createRequire(import.meta.url)(file) as NativeShmMap;
    // Electron and some embedders refuse external array buffers: find out now, not on a task's value.
    m.probe();
    native = m;
  } catch (err) {
    why = `${BINARY}: ${(err as Error).message.split('\n')[0]}`;
  }
  return native ?? undefined;
}

/** Which read path this process uses, and why it is not `mmap` when it is not. */
export function shmReadMode(): { mode: ShmReadMode; reason: string } {
  return load() ? { mode: 'mmap', reason: '' } : { mode: 'read', reason: why };
}

/** True when the addon is built here but could not be used (worth a warning; a checkout not built yet is not). */
export function shmAddonFailed(): boolean {
  return !load() && built;
}

/** Buffers made by {@link mapFile} and the file each maps, to recognise a task returning its argument. */
const mapped = new WeakMap<ArrayBufferLike, string>();

/** The whole file as an ArrayBuffer: mapped copy-on-write (writes stay private) or, without the addon, read. */
export function mapFile(path: string): ArrayBuffer {
  const m = load();
  if (!m) {
    const b = readWholeFileSync(path);
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
      ? (b.buffer as ArrayBuffer)
      : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }
  const buf = m.map(path);
  mapped.set(buf, path);
  return buf;
}

/**
 * The file `view` still shows unchanged, if it is a whole mapping made by {@link mapFile} and no
 * page of it was written: a result that is its argument can then share the argument's file.
 */
export function unchangedFileOf(view: Uint8Array): string | undefined {
  const path = mapped.get(view.buffer);
  if (!path || view.byteOffset !== 0 || view.byteLength !== view.buffer.byteLength) return undefined;
  return native?.pristine(view.buffer as ArrayBuffer) ? path : undefined;
}

/**
 * Makes a new file at `path` whose `bytes` of pages the kernel allocates now, off this thread;
 * false (nothing started) without the addon. A write into such a file later only copies.
 */
export function preallocateFile(path: string, bytes: number, done: (error: string | null) => void): boolean {
  const m = load();
  if (!m) return false;
  m.preallocate(path, bytes, done);
  return true;
}

/**
 * True when file `path` has one name and no process (this one included) has it open or mapped,
 * so its pages can take another value; false when unsure, and always without the addon.
 */
export function fileUnused(path: string): boolean {
  return load()?.reusable(path) ?? false;
}

/** True for a buffer made by {@link mapFile} with the native addon (a mapped view, not a copy). */
export function isMapped(buffer: ArrayBufferLike): boolean {
  return mapped.has(buffer);
}
