import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  init,
  shutdown,
  command,
  get,
  put,
  cancel,
  state,
  CommandFailedError,
  TaskCancelledError,
} from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { alive, tempDir, until } from './helpers.ts';

let cluster: LocalCluster;
let gpuNode: string;

before(async () => {
  cluster = await LocalCluster.start();
  await cluster.addNode({ numCpus: 2 });
  gpuNode = (await cluster.addNode({ numCpus: 1, labels: { pool: 'gpu' } })).nodeId;
  await init({
    cluster,
    logToDriver: false,
    placementRules: [{ match: { kind: 'command', name: 'nvcc*' }, require: { labels: { pool: 'gpu' } } }],
  });
});
after(async () => {
  await shutdown();
  await cluster.shutdown();
});

test('inputs become files in a fresh working directory; declared outputs come back', async () => {
  const run = command({ outputs: ['out/*.txt', 'model.bin'] });
  const r = await get(
    run.remote({
      argv: [
        'bash',
        '-c',
        'cat data/in.txt; cat blob | wc -c; ls ..; mkdir -p out; echo a > out/a.txt; echo b > out/b.log; printf "\\x00\\x01\\x02" > model.bin; echo note >&2',
      ],
      inputs: { 'data/in.txt': 'hello\n', blob: new Uint8Array(1000) },
      env: { GREETING: 'hi' },
    }),
  );
  assert.equal(r.exitCode, 0);
  assert.match(r.stdout, /^hello\n1000\n/);
  assert.equal(r.stderr, 'note\n');
  assert.deepEqual(Object.keys(r.files).sort(), ['model.bin', 'out/a.txt']);
  assert.deepEqual([...r.files['model.bin']!], [0, 1, 2]);
  assert.ok(r.durationMs >= 0);
});

test('an input given as a ref is fetched, and env reaches the process', async () => {
  const ref = put(new TextEncoder().encode('from the store'));
  const r = await get(
    command().remote({ argv: ['bash', '-c', 'cat x; echo " $GREETING"'], inputs: { x: ref }, env: { GREETING: 'hi' } }),
  );
  assert.equal(r.stdout, 'from the store hi\n');
});

test('a non-zero exit fails with CommandFailedError carrying the exit code and the stderr tail', async () => {
  await assert.rejects(
    get(command().remote({ argv: ['bash', '-c', 'echo first >&2; echo last words >&2; exit 3'] })),
    (e: unknown) => {
      assert.ok(e instanceof CommandFailedError);
      assert.equal(e.exitCode, 3);
      assert.match(e.stderrTail, /last words/);
      assert.deepEqual(e.argv, ['bash', '-c', 'echo first >&2; echo last words >&2; exit 3']);
      return true;
    },
  );
});

test('a missing program is exit code 127 with the reason', async () => {
  await assert.rejects(get(command().remote({ argv: ['no-such-program-xyz'] })), (e: unknown) => {
    assert.ok(e instanceof CommandFailedError);
    assert.equal(e.exitCode, 127);
    assert.match(e.stderrTail, /no-such-program-xyz/);
    return true;
  });
});

test('inputs may not escape the working directory', async () => {
  await assert.rejects(
    get(command().remote({ argv: ['true'], inputs: { '../evil': 'x' } })),
    /must be relative and stay inside the working directory/,
  );
  assert.throws(() => command().remote({ argv: [] }), /non-empty argv/);
  assert.throws(() => command({ outputs: [''] }), /option outputs/);
});

test('cancel kills the whole process group of the command', async () => {
  const dir = tempDir('cmd-cancel');
  const pids = join(dir, 'pids');
  const ref = command().remote({ argv: ['bash', '-c', `sleep 300 & echo $! > ${pids}; echo $$ >> ${pids}; wait`] });
  const [child, shell] = (await until('the command to start', () => {
    try {
      const p = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
      return p.length === 2 ? p : undefined;
    } catch {
      return undefined;
    }
  }))!;
  await cancel(ref);
  await assert.rejects(get(ref), TaskCancelledError);
  await until('the shell and its child to be gone', () => !alive(child!) && !alive(shell!));
});

test('force cancel kills the worker and the command with it', async () => {
  const dir = tempDir('cmd-force');
  const pidFile = join(dir, 'pid');
  const ref = command().remote({ argv: ['bash', '-c', `echo $$ > ${pidFile}; exec sleep 300`] });
  const pid = await until('the command to start', () => {
    try {
      return Number(readFileSync(pidFile, 'utf8')) || undefined;
    } catch {
      return undefined;
    }
  });
  await cancel(ref, { force: true });
  await assert.rejects(get(ref), TaskCancelledError);
  await until('the command to die with its worker', () => !alive(pid));
});

test('placement rules match command tasks by kind and name', async () => {
  const ref = command().remote({ argv: ['nvcc', '--version'] }).id;
  await get(command().remote({ argv: ['true'] }));
  const [row] = await state.listTasks({ filters: [['taskId', '=', ref]] });
  assert.equal(row!.name, 'nvcc');
  assert.equal(row!.placementRule, 0);
  assert.equal(row!.nodeId, gpuNode);
});
