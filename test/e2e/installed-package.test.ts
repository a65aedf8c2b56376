/**
 * The package as a user gets it: `npm pack`, then `npm install <tarball>` into a fresh project
 * (a package.json without `"type": "module"`, nothing else), and there: a plain JavaScript
 * driver (tasks, an actor, a circuit), a TypeScript driver with top-level await through
 * `npx orrery run`, `npx orrery start`, and the dashboard the installed CLI serves, checked in
 * Chromium (the real views, not the "not built" placeholder).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDashboard, screenshot, waitLive } from './browser.ts';
import { requireService, sshService } from '../services/env.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'orrery-installed-'));
const project = join(work, 'project');
const home = join(work, 'home');
/** The user's environment: their own ORRERY_HOME, nothing of the repository's. */
const env: NodeJS.ProcessEnv = { ...process.env, ORRERY_HOME: home, ORRERY_ADDRESS: '', ORRERY_TOKEN: '' };
delete env.NODE_OPTIONS;

let tarball = '';
let files: string[] = [];

/** Runs a command in the project; its stdout. */
async function inProject(cmd: string, args: string[], timeout = 120_000): Promise<string> {
  try {
    return (await run(cmd, args, { cwd: project, env, timeout, maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** The one JSON line a driver printed. */
function lastJson(out: string): Record<string, unknown> {
  const line = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  assert.ok(line, `the driver printed no JSON line:\n${out}`);
  return JSON.parse(line) as Record<string, unknown>;
}

before(async () => {
  // `npm pack` runs `prepare` (npm run build): the tarball holds a fresh build.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: repo,
    timeout: 300_000,
    maxBuffer: 64 << 20,
  });
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(work, info[0]!.filename);
  files = info[0]!.files.map((f) => f.path);
  await run('mkdir', ['-p', project, home]);
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'fresh', version: '1.0.0', private: true })}\n`,
  );
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  test('holds the compiled code, the built dashboard, the resources, README and LICENSE, and no tests or sources', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/orchestrator/cli/main.js',
      'dist/orchestrator/api/index.js',
      'dist/orchestrator/api/index.d.ts',
      'renderer/dist/index.html',
      'resources/examples/vqe-h2.ts',
      'resources/braket-pricing.json',
    ])
      assert.ok(files.includes(f), `the tarball lacks ${f}`);
    const stray = files.filter(
      (f) =>
        /^(test|bench|orchestrator|backends|renderer\/src|electron\/[^/]+\.ts)\//.test(f) ||
        f.startsWith('test/') ||
        /^dist\/.*\.map$/.test(f) ||
        f.includes('emulators'),
    );
    assert.deepEqual(stray, [], 'tests, benchmarks, emulators, sources or source maps of dist/ in the tarball');
    const assets = files.filter((f) => f.startsWith('renderer/dist/assets/') && !f.endsWith('.map'));
    assert.ok(assets.length >= 2, `no dashboard assets: ${assets.join(', ')}`);
    for (const a of assets) assert.match(a, /-[A-Z0-9]{8}\.(js|css)$/, `${a} carries no content hash`);
  });
});

describe('installed into a fresh project', () => {
  before(async () => {
    await inProject('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], 600_000);
  });

  test('a plain JavaScript driver runs tasks (one importing orrery-compute inside), an actor and a circuit', async () => {
    writeFileSync(
      join(project, 'driver.mjs'),
      `import { init, remote, get, circuit, shutdown } from 'orrery-compute';
await init({ numCpus: 2, backends: [{ name: 'sim', kind: 'quantum-simulator', seed: 7 }] });
const square = remote((x) => x * x);
const nested = remote(async (n) => {
  const { remote, get } = await import('orrery-compute');
  return get(remote((x) => x + 1).remote(n));
});
const Counter = remote(class { constructor() { this.n = 0; } add(k) { this.n += k; return this.n; } });
const counter = Counter.remote();
await get([counter.add.remote(1), counter.add.remote(2)]);
const bell = circuit({ shots: 200 });
const { counts } = await get(bell.remote('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;'));
console.log(JSON.stringify({ squares: await get([1, 2, 3].map((i) => square.remote(i))), nested: await get(nested.remote(41)), counter: await get(counter.add.remote(0)), counts }));
await shutdown();
`,
    );
    const out = lastJson(await inProject('node', ['driver.mjs']));
    assert.deepEqual(out.squares, [1, 4, 9]);
    assert.equal(out.nested, 42, "a task's own import of orrery-compute resolves in the installed package");
    assert.equal(out.counter, 3);
    const counts = out.counts as Record<string, number>;
    assert.deepEqual(Object.keys(counts).sort(), ['00', '11'], 'a Bell pair measures 00 or 11');
    assert.equal(counts['00']! + counts['11']!, 200);
  });

  test('on an SSH host the agent ships from the installed package, and a task there imports orrery-compute', async (t) => {
    if (!requireService('ssh', t)) return;
    const lab = {
      name: 'lab',
      kind: 'ssh',
      hosts: [`${sshService.user}@${sshService.host}:${sshService.port}`],
      identityFile: sshService.keyPath,
      knownHostsFile: sshService.knownHostsPath,
    };
    writeFileSync(
      join(project, 'remote.mjs'),
      `import { init, remote, get, shutdown } from 'orrery-compute';
await init({ numCpus: 1, backends: [${JSON.stringify(lab)}] });
const where = remote({ backend: 'lab' }, async () => {
  const orrery = await import('orrery-compute');
  return { backend: orrery.getRuntimeContext().backend, api: typeof orrery.remote };
});
console.log(JSON.stringify(await get(where.remote())));
await shutdown();
`,
    );
    assert.deepEqual(lastJson(await inProject('node', ['remote.mjs'], 180_000)), { backend: 'lab', api: 'function' });
  });

  test('npx orrery run: a TypeScript driver with top-level await in a folder without "type": "module"', async () => {
    writeFileSync(join(project, 'double.ts'), 'export const double = (n: number): number => n * 2;\n');
    writeFileSync(
      join(project, 'driver.ts'),
      `import { init, remote, get, shutdown } from 'orrery-compute';
import { double } from './double.js';
await init();
const task = remote({ name: 'plusOne' }, async (x: number): Promise<number> => x + 1);
const [name, arg] = process.argv.slice(2);
console.log(JSON.stringify({ name, got: await get(task.remote(double(Number(arg)))) }));
await shutdown();
`,
    );
    assert.deepEqual(lastJson(await inProject('npx', ['orrery', 'run', 'driver.ts', 'ts', '20'])), {
      name: 'ts',
      got: 41,
    });
  });

  describe('npx orrery start, and the dashboard it serves', () => {
    let head: ChildProcess;
    before(async () => {
      head = spawn('npx', ['orrery', 'start', '--port', '0'], { cwd: project, env, stdio: 'ignore' });
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(home, 'head.json'))) {
        assert.ok(Date.now() < deadline, 'orrery start wrote no head.json within 60 s');
        assert.equal(head.exitCode, null, `orrery start exited with ${head.exitCode}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    after(async () => {
      await inProject('npx', ['orrery', 'stop']).catch(() => head.kill());
    });

    test('a driver run with orrery run joins it, and Chromium shows its tasks on the real dashboard', async () => {
      assert.deepEqual(lastJson(await inProject('npx', ['orrery', 'run', 'driver.ts', 'joined', '1'])), {
        name: 'joined',
        got: 3,
      });
      const status = await inProject('npx', ['orrery', 'list', 'tasks', '--json']);
      assert.match(status, /"state": ?"FINISHED"/, `the head ran no task of the driver:\n${status}`);
      const link = (await inProject('npx', ['orrery', 'dashboard', '--url'])).trim();
      const ui = await openDashboard(link, { width: 1440, height: 900 });
      try {
        const { page } = ui;
        await waitLive(page, 30_000);
        assert.ok(!(await page.content()).includes('not built yet'), 'the placeholder page, not the dashboard');
        await page.getByRole('tab', { name: 'Tables' }).click();
        await page.getByLabel('Search').fill('plusOne');
        await page
          .getByTestId('table-count')
          .filter({ hasText: /^1 of / })
          .waitFor({ timeout: 15_000 });
        assert.match(await page.locator('.vt-body .vt-row').first().innerText(), /FINISHED/);
        await screenshot(page, 'installed-package-tables');
        const script = await page.evaluate(() => document.querySelector('script[type=module]')?.getAttribute('src'));
        const asset = await fetch(new URL(script!, page.url()));
        assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        assert.deepEqual(ui.errors, []);
      } finally {
        await ui.browser.close();
      }
    });

    test("the dashboard's example runs from the installed package", async () => {
      const { url, token } = JSON.parse(readFileSync(join(home, 'head.json'), 'utf8')) as {
        url: string;
        token: string;
      };
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        assert.equal(res.status, 200, `${method} ${path}: ${res.status}`);
        return (await res.json()) as unknown;
      };
      const { pid } = (await api('POST', '/api/examples/run', { name: 'parameter-sweep' })) as { pid: number };
      const deadline = Date.now() + 180_000;
      for (;;) {
        const examples = (await api('GET', '/api/examples')) as {
          name: string;
          file: string;
          runs: { pid: number; exitCode?: number | null; output: string[] }[];
        }[];
        const sweep = examples.find((e) => e.name === 'parameter-sweep')!;
        assert.ok(sweep.file.startsWith(join(project, 'node_modules', 'orrery-compute')), sweep.file);
        const done = sweep.runs.find((r) => r.pid === pid && r.exitCode !== undefined);
        if (done) {
          assert.equal(done.exitCode, 0, done.output.join('\n'));
          break;
        }
        assert.ok(Date.now() < deadline, 'the example did not finish within 180 s');
        await new Promise((r) => setTimeout(r, 500));
      }
    });
  });
});

describe('a project made with npx orrery init', () => {
  test('writes the project, and its driver runs on the installed package with npm start', async () => {
    // Inside the project, so that the generated project finds the installed orrery-compute above it
    // (npm cannot install orrery-compute@^0.1.0 from the registry before it is published).
    const out = await inProject('npx', ['orrery', 'init', 'experiment']);
    assert.match(out, /orrery\.json/);
    const exp = join(project, 'experiment');
    for (const f of ['orrery.json', 'driver.ts', 'tsconfig.json', 'package.json', 'README.md', '.gitignore'])
      assert.ok(existsSync(join(exp, f)), `orrery init wrote no ${f}`);
    const started = await run('npm', ['start', '--silent'], { cwd: exp, env, timeout: 180_000, maxBuffer: 16 << 20 });
    assert.match(started.stdout, /squares: \[ 1, 4, 9, 16, 25, 36 \]/);
    assert.match(started.stdout, /counter total: 16/);
    assert.match(started.stdout, /Bell state counts:/);
  });
});

describe('npx orrery app where Electron is not installed', () => {
  test('says why in one line and serves the browser dashboard instead', async () => {
    // A stand-in xdg-open: the dashboard "opens" without a desktop.
    const bin = join(work, 'bin');
    await run('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const app = spawn('npx', ['orrery', 'app', '--port', '0'], {
      cwd: project,
      env: { ...env, PATH: `${bin}:${env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    app.stdout!.on('data', (d: Buffer) => (output += d));
    app.stderr!.on('data', (d: Buffer) => (output += d));
    try {
      const deadline = Date.now() + 60_000;
      while (!/dashboard: http/.test(output)) {
        assert.ok(Date.now() < deadline, `no dashboard within 60 s:\n${output}`);
        assert.equal(app.exitCode, null, `orrery app exited:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(output, /Electron is not installed \(.*\).*npm install electron/);
    } finally {
      await inProject('npx', ['orrery', 'stop']).catch(() => app.kill());
      await new Promise((r) => (app.exitCode === null ? app.once('exit', r) : r(undefined)));
    }
  });
});

test('the installed CLI finds its files in the package, not in a repository', () => {
  const root = join(project, 'node_modules', 'orrery-compute');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.orrery, './dist/orchestrator/cli/main.js');
  assert.ok(!existsSync(join(root, 'orchestrator')), 'sources were installed');
});
