/**
 * What Orrery keeps in `~/.orrery` on a host reached over SSH, and cleaning it: agent bundles
 * (`agents/<hash>`), Node runtimes (`runtime/<version>-<os>-<arch>`), task environments (`envs/`)
 * and shipped working folders (`workdirs/`). Each entry's modification time is its last use (the
 * backends touch the bundle and runtime they start), so `clean` removes the entries unused for
 * longer than the given age, except the ones this Orrery uses now, and leftovers of interrupted
 * uploads (`.tmp-*`, `.bad-*`) of the same age.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { SshConnection } from './connection.ts';
import { describeAddress } from './ssh-config.ts';
import { shellCommand, shellQuote } from '../shell-quote.ts';

/** The folders of `~/.orrery` that hold one entry per version or content hash. */
export const CACHE_FOLDERS = ['agents', 'runtime', 'envs', 'workdirs'] as const;

/** One folder's entries and their size. */
export interface CacheUsage {
  readonly folder: (typeof CACHE_FOLDERS)[number];
  readonly entries: number;
  readonly bytes: number;
}

const SIZES = `cd "$HOME/.orrery" 2>/dev/null || exit 0
for k in ${CACHE_FOLDERS.join(' ')}; do
  if [ -d "$k" ]; then
    printf '%s %s %s\\n' "$k" "$(find "$k" -mindepth 1 -maxdepth 1 ! -name '.*' | wc -l)" "$(du -sk "$k" | cut -f1)"
  fi
done`;

/** Sizes of the cache folders in `~/.orrery` on the host (folders that do not exist are left out). */
export async function remoteCacheUsage(conn: SshConnection): Promise<CacheUsage[]> {
  const out = await conn.run(SIZES, 120_000);
  const usage: CacheUsage[] = [];
  for (const line of out.stdout.trim().split('\n')) {
    const [folder, entries, kb] = line.trim().split(/\s+/);
    const known = CACHE_FOLDERS.find((f) => f === folder);
    if (known) usage.push({ folder: known, entries: Number(entries), bytes: Number(kb) * 1024 });
  }
  return usage;
}

/** `agents 2 (1.4 MB), runtime 1 (190.2 MB)`, or `empty`. */
export function describeUsage(usage: readonly CacheUsage[]): string {
  if (usage.length === 0) return 'empty';
  return usage.map((u) => `${u.folder} ${u.entries} (${formatBytes(u.bytes)})`).join(', ');
}

/** `1.4 MB`. */
export function formatBytes(bytes: number): string {
  return bytes >= 1e9
    ? `${(bytes / 1e9).toFixed(2)} GB`
    : bytes >= 1e6
      ? `${(bytes / 1e6).toFixed(1)} MB`
      : `${(bytes / 1e3).toFixed(0)} kB`;
}

/**
 * Removes each entry of the cache folders not modified for `$1` minutes, except the paths
 * (relative to ~/.orrery) given after it; prints `<path>\t<KiB>` per removed entry.
 */
const CLEAN = `minutes=$1; shift
cd "$HOME/.orrery" 2>/dev/null || exit 0
for k in ${CACHE_FOLDERS.join(' ')}; do
  [ -d "$k" ] || continue
  find "$k" -mindepth 1 -maxdepth 1 -mmin "+$minutes" | while IFS= read -r p; do
    for keep in "$@"; do [ "$p" = "$keep" ] && continue 2; done
    kb=$(du -sk "$p" | cut -f1)
    rm -rf -- "$p" && printf '%s\\t%s\\n' "$p" "$kb"
  done
done`;

/** An entry `clean` removed. */
export interface RemovedEntry {
  /** Relative to `~/.orrery`: `runtime/18.20.4-linux-x64`. */
  readonly path: string;
  readonly bytes: number;
}

/**
 * Removes entries of `~/.orrery/{agents,runtime,envs,workdirs}` unused for `olderThanDays`,
 * keeping `keep` (paths relative to `~/.orrery`, e.g. `agents/<hash>`, `runtime/<name>`).
 */
export async function cleanRemoteCaches(
  conn: SshConnection,
  keep: readonly string[],
  olderThanDays: number,
  backend: string,
): Promise<RemovedEntry[]> {
  const minutes = Math.max(0, Math.round(olderThanDays * 24 * 60));
  const out = await conn.run(`sh -c ${shellQuote(CLEAN)} sh ${shellCommand([String(minutes), ...keep])}`, 600_000);
  if (out.code !== 0)
    throw new BackendError(
      backend,
      `cleaning ~/.orrery on ${conn.target.user}@${describeAddress(conn.target)} failed: ${(out.stderr.trim() || `exit code ${out.code}`).split('\n')[0]}`,
      true,
    );
  return out.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [path, kb] = line.split('\t');
      return { path: path!, bytes: Number(kb) * 1024 };
    });
}

/** Lines for `orrery backends clean`: each removed entry and the total. */
export function describeRemoved(where: string, removed: readonly RemovedEntry[], olderThanDays: number): string[] {
  if (removed.length === 0) return [`${where}: nothing unused for more than ${olderThanDays} days in ~/.orrery`];
  const total = removed.reduce((n, r) => n + r.bytes, 0);
  return [
    ...removed.map((r) => `${where}: removed ~/.orrery/${r.path} (${formatBytes(r.bytes)})`),
    `${where}: removed ${removed.length} entries, ${formatBytes(total)} (${total} bytes)`,
  ];
}
