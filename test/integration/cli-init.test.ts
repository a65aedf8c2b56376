/**
 * `orrery init <dir>` through the real CLI: the files it writes, a config the one config reader
 * loads (comments and all), every commented-out backend example valid for its kind's real
 * validator once uncommented, a driver that typechecks against the repo's API and runs, and
 * one clear line for each bad folder.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../../orchestrator/head/config-file.ts';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { validate } from '../../orchestrator/service/dashboard-backends.ts';
import { HeadService } from '../../orchestrator/service/head-service.ts';
import { asIntruder, requireIntruder } from '../services/env.ts';
import { tempDir, until } from './helpers.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO, 'orchestrator/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const FILES = ['orrery.json', 'driver.ts', 'package.json', 'tsconfig.json', 'README.md', '.gitignore'];
const EXAMPLE_KINDS = ['ssh', 'slurm', 'sagemaker', 'ibm-quantum', 'braket'];
// Heads of this file (the service below, `orrery run`'s embedded one) keep their files here; the CLIs inherit it.
process.env.ORRERY_HOME = tempDir('cli-init-home');
// The CLIs find the heads of this file through ORRERY_HOME only.
delete process.env.ORRERY_ADDRESS;
delete process.env.ORRERY_TOKEN;

function orrery(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, exit code 1. */
function assertOneLineError(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^orrery: /);
  assert.match(r.stderr, message);
}

/** The config with the commented-out example at `index` uncommented (its `/*` and `*\/` lines deleted), and its text. */
function uncommented(text: string, which: number[]): string {
  const lines = text.split('\n');
  const blocks: [number, number][] = [];
  lines.forEach((l, i) => {
    if (/^\s*\/\*\s*$/.test(l)) blocks.push([i, -1]);
    if (/^\s*\*\/\s*$/.test(l)) blocks[blocks.length - 1]![1] = i;
  });
  const drop = new Set(which.flatMap((k) => blocks[k]!));
  return lines.filter((_, i) => !drop.has(i)).join('\n');
}

function exampleCount(text: string): number {
  return text.split('\n').filter((l) => /^\s*\/\*\s*$/.test(l)).length;
}

describe('orrery init', () => {
  const parent = tempDir('cli-init');
  const project = join(parent, 'my-experiment');
  let first: ReturnType<typeof orrery>;
  /** The project's tsconfig with 'orrery-compute' mapped to this repo's sources (the lead tests the packed package). */
  const repoTsconfig = join(project, 'tsconfig.repo.json');

  test('writes the project and prints what it wrote and the next commands', () => {
    first = orrery(parent, ['init', 'my-experiment']);
    assert.equal(first.code, 0, first.stderr);
    for (const f of FILES) {
      assert.ok(existsSync(join(project, f)), `${f} was written`);
      assert.match(first.stdout, new RegExp(`^  ${f.replace('.', '\\.')} `, 'm'));
    }
    for (const line of ['cd my-experiment', 'npm install', 'npm start', 'npm run dashboard', 'orrery secrets set'])
      assert.ok(first.stdout.includes(line), `${line} in:\n${first.stdout}`);
    assert.equal(statSync(join(project, 'orrery.json')).mode & 0o777, 0o600);

    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'my-experiment');
    assert.equal(pkg.private, true);
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.dependencies, { 'orrery-compute': `^${version}` });
    assert.equal(pkg.scripts.start, 'orrery run driver.ts');
    assert.equal(pkg.scripts.dashboard, 'orrery dashboard');
    const tsconfig = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8'));
    assert.equal(tsconfig.compilerOptions.module, 'NodeNext');
    assert.equal(tsconfig.compilerOptions.strict, true);
    const driver = readFileSync(join(project, 'driver.ts'), 'utf8');
    assert.match(driver, /from 'orrery-compute'/);
    assert.match(driver, /^await init\(/m);
    const readme = readFileSync(join(project, 'README.md'), 'utf8');
    for (const s of ['# my-experiment', 'npm install', 'npm start', 'npm run dashboard', 'orrery secrets set'])
      assert.ok(readme.includes(s), s);
    assert.match(readFileSync(join(project, '.gitignore'), 'utf8'), /^node_modules\/$/m);
  });

  test('the config (with its comments) loads through the real reader and the CLI: the simulator is on', () => {
    const cfg = readConfigFile(join(project, 'orrery.json'));
    assert.deepEqual(
      cfg.backends.map((b) => [b.name, b.kind]),
      [['sim', 'quantum-simulator']],
    );
    const list = orrery(project, ['backends', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /sim {2}\(kind quantum-simulator/);
  });

  test('every commented-out example is valid for its kind when uncommented, and names secrets only', async () => {
    const text = readFileSync(join(project, 'orrery.json'), 'utf8');
    const n = exampleCount(text);
    assert.equal(n, EXAMPLE_KINDS.length);
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) {
      const file = join(tempDir('cli-init-example'), 'orrery.json');
      writeFileSync(file, uncommented(text, [i]));
      const cfg = readConfigFile(file);
      assert.equal(cfg.backends.length, 2, `example ${i}`);
      const example = cfg.backends[1]!;
      kinds.push(String(example.kind));
      // The kind's own validator (constructing a backend starts nothing) and the dashboard's schema check.
      const backend = await createBackend(example, cfg.modules);
      assert.equal(backend.name, example.name);
      await validate(structuredClone(example), cfg.modules);
      for (const [k, v] of Object.entries(example)) {
        assert.doesNotMatch(k, /^(apiKey|password|passphrase|token|accessKeyId|secretAccessKey)$/i, `${k} inline`);
        if (k.endsWith('Secret')) assert.match(String(v), /^[\w.-]+$/, `${k} names a keychain secret`);
      }
    }
    assert.deepEqual(kinds, EXAMPLE_KINDS);
    const all = join(tempDir('cli-init-all'), 'orrery.json');
    writeFileSync(all, uncommented(text, [...Array(n).keys()]));
    assert.deepEqual(
      readConfigFile(all).backends.map((b) => b.kind),
      ['quantum-simulator', ...EXAMPLE_KINDS],
    );
  });

  test("the driver typechecks (strict, NodeNext) against the repo's API and runs: tasks, an actor, a circuit", () => {
    const paths = {
      'orrery-compute': [join(REPO, 'orchestrator/api/index.ts')],
      'orrery-compute/internal/circuit-task': [join(REPO, 'backends/quantum/circuit-task.ts')],
      'orrery-compute/internal/command-container': [join(REPO, 'orchestrator/api/command-container.ts')],
    };
    const tsconfig = repoTsconfig;
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: './tsconfig.json',
        compilerOptions: { allowImportingTsExtensions: true, typeRoots: [join(REPO, 'node_modules/@types')], paths },
        files: ['driver.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
      cwd: project,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

    // npm start is `orrery run driver.ts`; with no head running the driver starts an embedded one from orrery.json.
    const run = orrery(project, ['run', 'driver.ts'], {
      TSX_TSCONFIG_PATH: tsconfig,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /squares: \[ 1, 4, 9, 16, 25, 36 \]/);
    assert.match(run.stdout, /3² \+ 4² = 25/);
    assert.match(run.stdout, /counter total: 16/);
    const counts = /Bell state counts: \{([^}]*)\}/.exec(run.stdout)?.[1] ?? '';
    assert.match(counts, /'00': \d+/);
    assert.doesNotMatch(counts, /'01'|'10'/);
  });

  test('npm start with a head running (npm run dashboard): the driver connects to it and its tasks run there', async () => {
    const env = { ...process.env, TSX_TSCONFIG_PATH: repoTsconfig };
    // Its output goes to a file: the synchronous CLI calls below block this process, so it could not drain a pipe.
    const log = join(tempDir('cli-init-head'), 'head.log');
    const fd = openSync(log, 'w');
    const head = spawn(process.execPath, ['--import', TSX, MAIN, 'start', '--port', '0'], {
      cwd: project,
      env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const out = () => readFileSync(log, 'utf8');
    try {
      await until('the head service to start', () => /orrery head running .*config .*orrery\.json/.test(out()), 60_000);
      const run = orrery(project, ['run', 'driver.ts'], env);
      assert.equal(run.code, 0, `${run.stderr}\nhead: ${out()}`);
      assert.match(run.stdout, /counter total: 16/);
      assert.match(run.stdout, /Bell state counts: \{ '(00|11)'/);
      const summary = orrery(project, ['summary', 'tasks', '--json'], env);
      assert.equal(summary.code, 0, summary.stderr);
      assert.match(summary.stdout, /circuit/);
      // Asynchronously: `orrery stop` waits for the head to exit, and only a free event loop here reaps it.
      const stop = spawn(process.execPath, ['--import', TSX, MAIN, 'stop'], { cwd: project, env, stdio: 'ignore' });
      assert.equal(await new Promise((done) => stop.once('exit', done)), 0);
      await until('the head to exit', () => head.exitCode !== null, 30_000);
    } finally {
      if (head.exitCode === null) head.kill('SIGKILL');
    }
  });

  test("the dashboard's backend and rule edits keep the config's comments, or are refused before the head changes", async () => {
    const path = join(project, 'orrery.json');
    const original = readFileSync(path, 'utf8');
    const commentLines = (text: string) => text.split('\n').filter((l) => /^\s*(\/\/|\/\*|\*\/)/.test(l));
    const cfg = readConfigFile(path);
    const service = await HeadService.start({
      port: 0,
      numCpus: 1,
      backends: cfg.backends,
      configPath: cfg.path,
      log: () => {},
    });
    const api = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${service.info.url}${route}`, {
        method,
        headers: { Authorization: `Bearer ${service.info.token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: res.status === 204 ? undefined : ((await res.json()) as any) };
    };
    const names = async () => ((await api('GET', '/api/backends')).json as { name: string }[]).map((b) => b.name);
    try {
      const added = await api('POST', '/api/backends', { name: 'extra', kind: 'local', numCpus: 1 });
      assert.equal(added.status, 201, JSON.stringify(added.json));
      const rules = [{ match: { kind: 'circuit' }, require: { backend: 'sim' } }];
      assert.equal((await api('PUT', '/api/placement-rules', rules)).status, 200);
      let text = readFileSync(path, 'utf8');
      assert.deepEqual(commentLines(text), commentLines(original));
      assert.deepEqual(
        readConfigFile(path).backends.map((b) => b.name),
        ['sim', 'extra'],
      );
      assert.deepEqual(readConfigFile(path).placementRules, rules);
      assert.equal((await api('DELETE', '/api/backends/extra')).status, 204);
      assert.deepEqual(commentLines(readFileSync(path, 'utf8')), commentLines(original));

      // A comment inside the entry a replacement would rewrite: refused, the head and the file as they were.
      text = readFileSync(path, 'utf8').replace('"seed": 7 }', '"seed": 7 /* fixed for the demo */ }');
      writeFileSync(path, text);
      const refused = await api('PUT', '/api/backends/sim', { name: 'sim', kind: 'quantum-simulator', seed: 8 });
      assert.equal(refused.status, 400);
      assert.match(refused.json.error, /backend sim has comments inside it that the dashboard would drop/);
      assert.equal(readFileSync(path, 'utf8'), text);
      assert.deepEqual(await names(), ['local', 'sim']);
    } finally {
      await service.stop();
    }
  });

  test('a folder that is not empty is refused, naming its files; --force adds only the missing ones', () => {
    const again = orrery(parent, ['init', 'my-experiment']);
    assertOneLineError(again, /folder .*my-experiment is not empty \(it has .*driver\.ts.*\); .*--force/);

    rmSync(join(project, 'driver.ts'));
    writeFileSync(join(project, 'README.md'), 'mine\n');
    const forced = orrery(parent, ['init', 'my-experiment', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^ {2}driver\.ts {2,}tasks/m);
    assert.match(forced.stdout, /^ {2}README\.md {2,}kept: it was there already/m);
    assert.equal(readFileSync(join(project, 'README.md'), 'utf8'), 'mine\n');
    assert.ok(existsSync(join(project, 'driver.ts')));
  });

  test('a missing folder argument, a file in the way and extra arguments are one line each', () => {
    assertOneLineError(orrery(parent, ['init']), /orrery init needs a folder: orrery init <dir>/);
    const file = join(parent, 'a-file');
    writeFileSync(file, '');
    assertOneLineError(orrery(parent, ['init', 'a-file']), /a-file exists and is not a folder/);
    assertOneLineError(
      orrery(parent, ['init', 'a-file/sub']),
      /cannot create folder .*a-file\/sub: a part of the path is a file/,
    );
    assertOneLineError(orrery(parent, ['init', 'x', 'y']), /takes one folder/);
    assert.match(orrery(parent, ['init', '--help']).stdout, /usage: orrery init <dir> \[--force\]/);
    assert.match(orrery(parent, ['--help']).stdout, /init <dir> \[--force\]/);
  });

  test('a folder the user may not write to is one line saying so', (t) => {
    if (!requireIntruder(t)) return;
    const locked = join(parent, 'locked');
    mkdirSync(locked);
    chmodSync(parent, 0o755);
    chmodSync(locked, 0o755);
    const r = asIntruder([process.execPath, '--import', TSX, MAIN, 'init', join(locked, 'proj')], {
      timeoutMs: 60_000,
    });
    assertOneLineError(
      { code: r.status, stderr: r.stderr },
      /cannot create folder .*locked\/proj: permission denied; choose a folder you can write to/,
    );
    assert.ok(!existsSync(join(locked, 'proj')));
  });
});
