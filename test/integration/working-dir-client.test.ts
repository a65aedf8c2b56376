/**
 * `runtimeEnv.workingDir` from a client driver: the driver packs the directory and puts the
 * archive over the WebSocket of a real `orrery start` child process; the service's local node
 * unpacks it once. A second driver with the same content fetches nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, init, remote, shutdown, state } from 'orrery-compute';
import { tempDir, until } from './helpers.ts';

const home = tempDir('wd-client');
const savedHome = process.env.ORRERY_HOME;
let child: ChildProcess;
let exited: Promise<number | null>;
let info: { address: string; token: string };

before(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'orchestrator/cli/main.ts', 'start', '--port', '0'], {
    env: { ...process.env, ORRERY_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  exited = new Promise((r) => child.once('exit', (code) => r(code)));
  const file = join(home, 'head.json');
  await until(
    'the service to write head.json',
    () => {
      if (child.exitCode !== null) throw new Error(`orrery start exited with ${child.exitCode}`);
      return existsSync(file) && /dashboard:/.test(out);
    },
    60_000,
  );
  info = JSON.parse(readFileSync(file, 'utf8'));
  process.env.ORRERY_HOME = home;
});
after(async () => {
  if (savedHome === undefined) delete process.env.ORRERY_HOME;
  else process.env.ORRERY_HOME = savedHome;
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a client driver ships its working directory; a second driver with the same content fetches nothing', async () => {
  const dir = tempDir('wd-client-project');
  mkdirSync(join(dir, 'lib'));
  const nonce = randomBytes(8).toString('hex');
  writeFileSync(join(dir, 'lib/util.js'), `export const nonce = ${JSON.stringify(nonce)};\n`);
  const task = remote({ runtimeEnv: { workingDir: dir } }, async () => {
    // @ts-expect-error the module is in the shipped working directory
    const { nonce } = await import('./lib/util.js');
    return { nonce: nonce as string, cwd: process.cwd() };
  });
  const fetched: unknown[] = [];
  const cwds: string[] = [];
  for (let driver = 0; driver < 2; driver++) {
    await init({ address: info.address, token: info.token, logToDriver: false });
    try {
      const ref = task.remote();
      const r = await get(ref);
      assert.equal(r.nonce, nonce);
      cwds.push(r.cwd);
      const [row] = await state.listTasks({ filters: [['taskId', '=', ref.id]] });
      fetched.push(row!.info.workingDirFetchedBytes);
    } finally {
      await shutdown();
    }
  }
  assert.ok((fetched[0] as number) > 0);
  assert.equal(fetched[1], 0);
  assert.equal(cwds[0], cwds[1]);
  assert.ok(cwds[0]!.startsWith(join(home, 'workdirs')), `unpacked under the service's ORRERY_HOME: ${cwds[0]}`);
});
