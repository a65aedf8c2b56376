/**
 * Reads a local working directory (`runtimeEnv.workingDir`) into an archive, as Ray's
 * `working_dir` does: every `.gitignore` in the tree applies to its own folder and below (a
 * deeper file overrides a shallower one, `!` re-includes), `runtimeEnv.excludes` applies from
 * the root over all of them, `.git/` is always left out. Matching is the `ignore` package's
 * (the rules git documents: comments, `*`, `**`, `?`, ranges, leading `/`, trailing `/`, `!`).
 * Symbolic links and empty folders are not shipped. Over the size limit packing fails with a
 * TypeError that lists the largest files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { packFiles, type ArchiveFile, type PackedDir } from './working-dir-archive.ts';

/** Ray's limit on a working directory: 100 MiB of files. */
export const DEFAULT_WORKING_DIR_MAX_BYTES = 100 * 1024 * 1024;

/** The limit: `ORRERY_WORKING_DIR_MAX_BYTES` when set to a positive integer, else 100 MiB. */
export function workingDirMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.ORRERY_WORKING_DIR_MAX_BYTES);
  return Number.isSafeInteger(v) && v > 0 ? v : DEFAULT_WORKING_DIR_MAX_BYTES;
}

/** A file chosen for shipping, before its bytes are read. */
export interface ListedFile {
  /** `/`-separated, relative to the root. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly executable: boolean;
}

/** One `.gitignore` in force: the folder it stands in (relative, '' for the root) and its rules. */
interface Rules {
  readonly base: string;
  readonly ig: Ignore;
}

/**
 * Lists the files of `root` that would be shipped, in path order. `where` names the option for
 * errors. Throws TypeError when the files exceed `maxBytes`.
 */
export function listWorkingDir(
  root: string,
  excludes: readonly string[] = [],
  maxBytes = workingDirMaxBytes(),
  where = 'runtimeEnv.workingDir',
): ListedFile[] {
  const always = ignore().add('.git/');
  const user = ignore().add([...excludes]);
  const out: ListedFile[] = [];
  const walk = (rel: string, stack: readonly Rules[]): void => {
    const abs = rel ? join(root, rel) : root;
    const names = readdirSync(abs, { withFileTypes: true });
    const own = names.find((e) => e.name === '.gitignore' && e.isFile());
    const rules = own
      ? [...stack, { base: rel, ig: ignore().add(readFileSync(join(abs, '.gitignore'), 'utf8')) }]
      : stack;
    for (const e of names) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const dir = e.isDirectory();
      if (!dir && !e.isFile()) continue; // symbolic links, sockets, devices
      if (isIgnored(dir ? `${path}/` : path, rules, always, user)) continue;
      if (dir) walk(path, rules);
      else {
        const st = statSync(join(abs, e.name));
        out.push({ path, size: st.size, mtimeMs: st.mtimeMs, executable: (st.mode & 0o100) !== 0 });
      }
    }
  };
  walk('', []);
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const total = out.reduce((n, f) => n + f.size, 0);
  if (total > maxBytes) throw tooLarge(root, out, total, maxBytes, where);
  return out;
}

/** Packs the listed files of `root` (read now). */
export function packWorkingDir(root: string, files: readonly ListedFile[]): PackedDir {
  const read: ArchiveFile[] = files.map((f) => ({
    path: f.path,
    data: readFileSync(join(root, ...f.path.split('/'))),
    executable: f.executable,
  }));
  return packFiles(read);
}

/** git's verdict for `path` (a folder ends in `/`): the deepest `.gitignore` with a say wins; excludes win over all. */
function isIgnored(path: string, rules: readonly Rules[], always: Ignore, user: Ignore): boolean {
  if (always.ignores(path)) return true;
  const u = user.test(path);
  if (u.ignored) return true;
  if (u.unignored) return false;
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    const t = r.ig.test(r.base ? path.slice(r.base.length + 1) : path);
    if (t.ignored) return true;
    if (t.unignored) return false;
  }
  return false;
}

function tooLarge(root: string, files: readonly ListedFile[], total: number, max: number, where: string): TypeError {
  const largest = [...files].sort((a, b) => b.size - a.size).slice(0, 5);
  const list = largest.map((f) => `${f.path} (${mib(f.size)})`).join(', ');
  const firstDir = largest.find((f) => f.path.includes('/'))?.path.split('/')[0];
  const hint = firstDir ? `'${firstDir}/'` : `'${largest[0]?.path ?? '*.bin'}'`;
  return new TypeError(
    `${where}: ${root} holds ${mib(total)} of files to ship, over the ${mib(max)} limit. Largest: ${list}. ` +
      `Leave large data out with runtimeEnv.excludes (e.g. excludes: [${hint}]) or a .gitignore there, ` +
      `or raise the limit with ORRERY_WORKING_DIR_MAX_BYTES.`,
  );
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
