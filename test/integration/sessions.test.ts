/**
 * Experiment sessions recorded by a real head: tasks, actors, results, logs, code, nodes and
 * job facts land in the session; two runs compare; no secret value reaches any file.
 * Runs under test/services/keyring.sh (the IBM API key lives in a real gnome-keyring).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { Entry } from '@napi-rs/keyring';
import { init, shutdown, remote, get, circuit } from 'orrery-compute';
import { SessionStore, compareSessions } from '../../orchestrator/sessions/index.ts';
import { startIbmEmulator, type IbmEmulator } from '../emulators/ibm/index.ts';
import { tempDir } from './helpers.ts';

const home = tempDir('sessions-home');
process.env.ORRERY_HOME = home;
const store = new SessionStore();
let emu: IbmEmulator;
const secretName = `ibm-key-${randomBytes(4).toString('hex')}`;

before(async () => {
  emu = await startIbmEmulator();
  new Entry('orrery', secretName).setPassword(emu.apiKey);
});
after(async () => {
  await emu.close();
  new Entry('orrery', secretName).deletePassword();
});

const BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n';

/** One experiment: a few CPU tasks with `scale`, an actor, and a circuit on the IBM emulator. */
async function experiment(session: string, scale: number): Promise<{ output: string }> {
  const writes: string[] = [];
  const capture = (stream: NodeJS.WriteStream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    return () => (stream.write = write);
  };
  const restore = [capture(process.stdout), capture(process.stderr)];
  try {
    await init({
      session,
      numCpus: 2,
      backends: [
        {
          name: 'ibm',
          kind: 'ibm-quantum',
          instanceCrn: emu.instanceCrn,
          apiKeySecret: secretName,
          url: emu.url,
          iamUrl: emu.iamUrl,
          pollIntervalMs: 20,
        },
      ],
    });
    const square = remote({ name: 'square' }, (x: number) => {
      console.log(`squaring ${x}`);
      return x * x;
    });
    const results = await get([1, 2, 3].map((x) => square.remote(x * scale)));
    assert.deepEqual(
      results,
      [1, 4, 9].map((v) => v * scale * scale),
    );
    class Counter {
      n = 0;
      add(k: number) {
        return (this.n += k);
      }
    }
    // 160 KB: the value stays on its node; the session still keeps it.
    const big = await get(remote({ name: 'big' }, (n: number) => new Float64Array(n).fill(1.5)).remote(20_000));
    assert.equal(big.length, 20_000);
    const c = remote(Counter).remote();
    await get(c.add.remote(5));
    const bell = await get(circuit({ backend: 'ibm', shots: 200 }).remote(BELL));
    assert.equal(bell.shots, 200);
    // Its first worker dies: the retry's attempt records why it runs.
    const crashOnce = remote({ name: 'crash-once', maxRetries: 1 }, async (marker: string) => {
      const { existsSync, writeFileSync } = await import('node:fs');
      if (!existsSync(marker)) {
        writeFileSync(marker, 'x');
        process.exit(1);
      }
      return 'second attempt';
    });
    assert.equal(await get(crashOnce.remote(join(tempDir('crash-once'), 'ran'))), 'second attempt');
    await assert.rejects(
      get(
        remote({ name: 'boom', maxRetries: 0 }, () => {
          throw new Error('kaboom');
        }).remote(),
      ),
    );
  } finally {
    await shutdown();
    for (const r of restore) r();
  }
  return { output: writes.join('') };
}

let firstOutput = '';

test('a run with init({ session }) records tasks, results, logs, code, nodes and job facts', async () => {
  firstOutput = (await experiment('run-a', 1)).output;
  const r = store.open('run-a');
  try {
    const meta = r.metadata();
    assert.equal(meta.status, 'finished');
    const squares = r.tasks({ name: 'square' });
    assert.equal(squares.length, 3);
    assert.ok(
      squares.every((t) => t.state === 'FINISHED'),
      JSON.stringify(squares),
    );
    const values = squares
      .map((t) => deserialize(Buffer.from(r.result(t.taskId)!.bytes)) as number)
      .sort((a, b) => a - b);
    assert.deepEqual(values, [1, 4, 9]);
    const hash = squares[0]!.functionHash;
    assert.ok(hash && r.functionCode(hash)?.source.includes('squaring'), 'the function source is kept by hash');
    const logs = r
      .logs({ taskId: squares[0]!.taskId })
      .map((l) => l.text)
      .join('');
    assert.match(logs, /squaring \d/);
    const big = r.tasks({ name: 'big' })[0]!;
    const bigResult = r.result(big.taskId)!;
    assert.equal(bigResult.size, 160_000, 'a large result kept on its node is pulled into the session');
    assert.equal(new Float64Array(Buffer.from(bigResult.bytes).buffer.slice(0), 0, 20_000)[7], 1.5);
    const boom = r.tasks({ name: 'boom' })[0]!;
    assert.equal(boom.state, 'FAILED');
    assert.match(JSON.stringify(r.taskEvents(boom.taskId)), /kaboom/);
    const crashed = r.taskEvents(r.tasks({ name: 'crash-once' })[0]!.taskId);
    const retried = crashed.find((e) => e.attempt === 1);
    assert.equal(retried?.errorName, 'WorkerCrashedError', JSON.stringify(crashed));
    assert.match(retried.errorMessage ?? '', /^the previous attempt's worker or node was lost: /);
    assert.equal(crashed.at(-1)?.state, 'FINISHED');
    const circ = r.tasks({ name: 'circuit' })[0]!;
    assert.equal(circ.state, 'FINISHED');
    assert.ok(String(r.taskInfo(circ.taskId).jobId ?? '').length > 0, 'the IBM job id is recorded on the task');
    assert.ok(r.nodes().some((n) => n.backend === 'ibm') && r.nodes().some((n) => n.backend === 'local'));
    assert.ok(r.tasks({}).some((t) => t.kind === 'actor-call'));
  } finally {
    r.close();
  }
});

test('two sessions compare: the same tasks with different arguments and results are reported', async () => {
  await experiment('run-b', 2);
  const a = store.open('run-a');
  const b = store.open('run-b');
  try {
    const cmp = compareSessions(a, b);
    const text = JSON.stringify(cmp);
    assert.match(text, /square/);
    assert.ok(
      cmp.tasks.some((t) => t.name === 'square' && t.params === 'differ' && t.result === 'differ'),
      text.slice(0, 2000),
    );
  } finally {
    a.close();
    b.close();
  }
  assert.deepEqual(
    store
      .list()
      .map((s) => s.name)
      .sort(),
    ['run-a', 'run-b'],
  );
});

test('no secret value appears in any file Orrery wrote or in its output', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(home);
  assert.ok(
    files.some((f) => f.endsWith('run-a.db')),
    `session files are under ${home}: ${files.join(', ')}`,
  );
  for (const f of files) assert.ok(!readFileSync(f).includes(emu.apiKey), `${f} contains the API key`);
  assert.ok(!firstOutput.includes(emu.apiKey), 'the output contains the API key');
  assert.ok(firstOutput.length > 0);
});

test('shutdown right after many short tasks: the finished session holds every task in a final state, each result it got', async () => {
  for (let round = 0; round < 8; round++) {
    const name = `burst-${round}`;
    await init({ session: name, numCpus: 2, logToDriver: false });
    const quick = remote({ name: 'quick' }, (x: number) => {
      console.log(`quick ${x}`);
      return x + 1;
    });
    const refs = Array.from({ length: 60 }, (_, i) => quick.remote(i));
    // Half the rounds wait for every result, half only for a few: the rest are still in flight at shutdown.
    const got = round % 2 === 0 ? 60 : 5;
    assert.deepEqual(
      await get(refs.slice(0, got)),
      Array.from({ length: got }, (_, i) => i + 1),
    );
    await shutdown();
    const r = store.open(name);
    try {
      assert.equal(r.metadata().status, 'finished');
      const tasks = r.tasks({ name: 'quick' });
      assert.equal(tasks.length, 60);
      const unfinished = tasks.filter((t) => t.state !== 'FINISHED' && t.state !== 'FAILED');
      assert.deepEqual(unfinished, [], `round ${round}: tasks left unfinished in a finished session`);
      for (const t of tasks) {
        if (t.state === 'FINISHED')
          assert.equal(deserialize(Buffer.from(r.result(t.taskId)!.bytes)), Number(t.argsPreview) + 1);
        else assert.equal(t.errorName, 'TaskCancelledError', JSON.stringify(t));
      }
      const finished = new Set(tasks.filter((t) => t.state === 'FINISHED').map((t) => Number(t.argsPreview)));
      for (let i = 0; i < got; i++)
        assert.ok(finished.has(i), `round ${round}: task ${i}, whose result the driver got`);
    } finally {
      r.close();
    }
  }
});
