/**
 * The driver's side of `runtimeEnv.workingDir`: a directory on this machine is packed once per
 * content (core/working-dir-pack.ts) and its archive put into the object store once per
 * runtime and hash, so the object directory moves it to whichever node lacks it (local, ssh,
 * slurm alike). The tree is read again at most once a second, so a sweep of many calls costs
 * one walk, and a file changed between two calls ships a new hash.
 *
 * Which paths ship: a directory that exists here. An absolute path that does not exist here
 * is a folder on the node (what `workingDir` meant before directories were shipped). Anything
 * else (a relative path that is not a directory here, a file) is a TypeError.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { newId } from '../core/ids.ts';
import { ObjectRef } from '../core/object-ref.ts';
import { serializeValue } from '../core/serialization.ts';
import type { RuntimeEnv } from '../core/runtime-env.ts';
import type { PackedDir } from '../core/working-dir-archive.ts';
import { listWorkingDir, packWorkingDir, workingDirMaxBytes } from '../core/working-dir-pack.ts';
import type { ShippedDir } from '../protocol/messages.ts';
import type { CoreRuntime } from './runtime.ts';

/** How long a listing is trusted before the tree is walked again. */
const RECHECK_MS = 1000;

interface Packed {
  checkedAt: number;
  fingerprint: string;
  packed: PackedDir;
}

/** Per directory and excludes: the last packing. */
const packings = new Map<string, Packed>();
/**
 * Per runtime and directory: the archive object of its latest content. An older one is
 * dropped when the content changes, so an edited project does not pile archives up in the head
 * (tasks that still need it hold it through their submission's nestedRefs).
 */
const puts = new WeakMap<CoreRuntime, Map<string, { hash: string; ref: ObjectRef<Uint8Array> }>>();

/**
 * Where `runtimeEnv.workingDir` points: `'ship'` (a directory here), `'node'` (an absolute
 * path not here: a folder on the node), or undefined when not given. Throws TypeError otherwise.
 */
export function workingDirKind(where: string, env: RuntimeEnv | undefined): 'ship' | 'node' | undefined {
  const dir = env?.workingDir;
  if (dir === undefined) return undefined;
  const full = resolve(dir);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(full);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return 'ship';
  if (!st && isAbsolute(dir)) return 'node';
  throw new TypeError(
    `${where}: runtimeEnv.workingDir ${JSON.stringify(dir)} is ${st ? 'not a directory' : 'not found'} on this machine ` +
      `(resolved to ${full}). Give a directory of your project to ship it to the nodes, or an absolute path ` +
      `that exists only on the nodes to run there.`,
  );
}

/**
 * Packs (if changed) and puts (once per runtime and hash) the working directory of `env`.
 * Without a `workingDir` of its own, a call made inside a task inherits the task's shipped
 * directory (as in Ray). Undefined when nothing ships.
 */
export function shipWorkingDir(rt: CoreRuntime, env: RuntimeEnv | undefined, where: string): ShippedDir | undefined {
  if (env?.workingDir === undefined) return rt.inheritedWorkdir?.();
  if (workingDirKind(where, env) !== 'ship') return undefined;
  const root = resolve(env!.workingDir!);
  const excludes = env!.excludes ?? [];
  const key = JSON.stringify([root, excludes, workingDirMaxBytes()]);
  const packed = packDir(key, root, excludes, where);
  let objects = puts.get(rt);
  if (!objects) {
    objects = new Map();
    puts.set(rt, objects);
  }
  let held = objects.get(key);
  if (held?.hash !== packed.hash) {
    // As put() does (api/objects.ts, which imports this file's importers).
    const id = newId();
    rt.post({ op: 'put', id, payload: serializeValue(packed.archive, 'runtimeEnv.workingDir', []) });
    held = { hash: packed.hash, ref: new ObjectRef<Uint8Array>(id, true) };
    objects.set(key, held);
  }
  return { hash: packed.hash, objectId: held.ref.id, archiveBytes: packed.archive.byteLength };
}

function packDir(key: string, root: string, excludes: readonly string[], where: string): PackedDir {
  const max = workingDirMaxBytes();
  const last = packings.get(key);
  const now = Date.now();
  if (last && now - last.checkedAt < RECHECK_MS) return last.packed;
  const files = listWorkingDir(root, excludes, max, `${where}: runtimeEnv.workingDir`);
  const fingerprint = files.map((f) => `${f.path}\0${f.size}\0${f.mtimeMs}\0${f.executable}`).join('\n');
  if (last && last.fingerprint === fingerprint) {
    last.checkedAt = now;
    return last.packed;
  }
  const packed = packWorkingDir(root, files);
  packings.set(key, { checkedAt: now, fingerprint, packed });
  return packed;
}
