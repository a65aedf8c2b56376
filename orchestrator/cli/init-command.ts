/**
 * `orrery init <dir>`: writes a small project from the templates shipped with the package
 * (resources/templates/project/): orrery.json (this machine and a quantum simulator, and
 * commented-out examples of the other backends), driver.ts, tsconfig.json, package.json,
 * README.md and .gitignore. It never overwrites a file: a folder that is not empty is refused,
 * naming what is there, unless --force, which writes only the files that do not exist yet.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { packagePath } from '../core/package-root.ts';
import type { CliOptions } from './command-line.ts';

/** Help of `orrery init`. */
export const INIT_USAGE = `usage: orrery init <dir> [--force]

Writes a new Orrery project into <dir> (created if missing; . for this folder): orrery.json
(this machine and a quantum simulator, with commented-out ssh, slurm, SageMaker, IBM Quantum and
Braket examples), driver.ts (tasks, an actor, a circuit), tsconfig.json, package.json, README.md
and .gitignore. A folder that is not empty is refused; --force writes only the files it does
not have yet and never overwrites one.`;

const TEMPLATE_DIR = join('resources', 'templates', 'project');

/** Files whose names npm would drop or rename when packing, stored under another name. */
const STORED_AS = new Map([['gitignore', '.gitignore']]);

/** What each written file is, for the summary. */
const WHAT: Record<string, string> = {
  'orrery.json': 'backends: this machine, a quantum simulator, commented examples of the others',
  'driver.ts': 'tasks, an actor and a circuit; npm start runs it',
  'package.json': 'orrery-compute, scripts start and dashboard',
  'tsconfig.json': 'strict TypeScript, NodeNext modules',
  'README.md': 'the next steps',
  '.gitignore': 'node_modules and build output',
};

/** An npm package name made from a folder name (`My Experiment` -> `my-experiment`). */
export function projectName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return name.slice(0, 214) || 'orrery-project';
}

/** Runs `init <dir>`; resolves with the exit code. */
export async function initCommand(args: string[], opts: CliOptions, print: (line: string) => void): Promise<number> {
  const [dirArg, extra] = args;
  if (!dirArg) throw new Error('orrery init needs a folder: orrery init <dir> (. for this folder)');
  if (extra !== undefined)
    throw new Error(`orrery init takes one folder (got ${dirArg} and ${extra}); see orrery init --help`);
  const dir = resolve(dirArg);
  const force = opts.force === true;
  const templates = packagePath(TEMPLATE_DIR);
  if (!existsSync(templates))
    throw new Error(`cannot find ${templates}; the package was installed without its resources folder: reinstall it`);
  const { version } = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
  const order = (name: string) => (Object.hasOwn(WHAT, name) ? Object.keys(WHAT).indexOf(name) : Infinity);
  const files = readdirSync(templates)
    .map((stored) => ({ stored, name: STORED_AS.get(stored) ?? stored }))
    .sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));

  const existing = existingEntries(dir);
  if (existing.length > 0 && !force) {
    const shown = existing.slice(0, 8).join(', ') + (existing.length > 8 ? `, ... (${existing.length} in all)` : '');
    throw new Error(
      `folder ${dir} is not empty (it has ${shown}); choose a new or empty folder, or add --force to write only the files it does not have yet (none is overwritten)`,
    );
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create folder ${dir}: ${reason(err)}`);
  }

  const written: string[] = [];
  const kept: string[] = [];
  const values: Record<string, string> = { name: projectName(dir), version };
  for (const { stored, name } of files) {
    const text = readFileSync(join(templates, stored), 'utf8').replace(/\{\{(\w+)\}\}/g, (m, k: string) =>
      Object.hasOwn(values, k) ? values[k]! : m,
    );
    try {
      // 'wx': never overwrite, even a file that appeared since the check above.
      writeFileSync(join(dir, name), text, { flag: 'wx', mode: name === 'orrery.json' ? 0o600 : 0o644 });
      written.push(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') kept.push(name);
      else throw new Error(`cannot write ${join(dir, name)}: ${reason(err)}`);
    }
  }

  const width = Math.max(...files.map((f) => f.name.length));
  print(
    written.length > 0
      ? `Wrote an Orrery project to ${dir}:`
      : `Wrote nothing to ${dir}: it has every file of a project already:`,
  );
  for (const name of written) print(`  ${name.padEnd(width)}  ${WHAT[name] ?? ''}`.trimEnd());
  for (const name of kept) print(`  ${name.padEnd(width)}  kept: it was there already`);
  const cd = relative(process.cwd(), dir);
  print('');
  print('Next:');
  if (cd !== '') print(`  cd ${/^[\w./-]+$/.test(cd) ? cd : `'${cd.replace(/'/g, `'\\''`)}'`}`);
  print('  npm install              # orrery-compute and TypeScript');
  print('  npm start                # runs driver.ts: tasks, an actor, a circuit on the simulator');
  print('  npm run dashboard        # the dashboard; npm start in another terminal shows up live in it');
  print('Add a backend: delete the /* and */ around its example in orrery.json, then npx orrery backends test <name>.');
  print('Store a secret: npx orrery secrets set <name>, and name it in orrery.json.');
  return 0;
}

/** The entries of `dir` (none when it does not exist). */
function existingEntries(dir: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') throw new Error(`cannot create folder ${dir}: ${reason(err)}`);
    throw new Error(`cannot read folder ${dir}: ${reason(err)}`);
  }
  if (!stat.isDirectory()) throw new Error(`${dir} exists and is not a folder; choose a new or empty folder`);
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    throw new Error(`cannot read folder ${dir}: ${reason(err)}`);
  }
}

/** A file system error in words a user acts on. */
function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied; choose a folder you can write to';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'ENOSPC') return 'the disk is full';
  return (err as Error).message;
}
