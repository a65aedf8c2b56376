/**
 * Result file names come from the session database, which is only data: a crafted row naming
 * `../` paths, an absolute path, or a symlink inside the results folder must never pull a file
 * from outside the session into an export, nor be read as a task's result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SessionStore, SessionUnsafeFileError } from '../../orchestrator/sessions/index.ts';
import { sessionsCommand } from '../../orchestrator/cli/sessions-command.ts';

const OUTSIDE = 'OUTSIDE-THE-SESSION-private-key-material';
/** From `<home>/.orrery/sessions/crafted.files` to `<home>/.ssh/id_ed25519`. */
const UP = '../../../.ssh/id_ed25519';

/** A sessions dir with session `name` holding one large result (a file) for task `good`, and a private file next to it. */
async function craft(): Promise<{ root: string; dir: string; store: SessionStore; outside: string; done: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'orrery-export-paths-'));
  const dir = join(root, 'home', '.orrery', 'sessions');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(join(root, 'home', '.ssh'));
  const outside = join(root, 'home', '.ssh', 'id_ed25519');
  writeFileSync(outside, OUTSIDE);
  const store = new SessionStore({ dir });
  const rec = store.record('crafted', { orreryVersion: 't', inlineResultBytes: 16 });
  for (const id of ['good', 'up', 'abs', 'link', 'slash', 'back', 'nul', 'dots'])
    rec.recordTaskSubmitted({ taskId: id, name: id, kind: 'task' });
  rec.recordResult('good', new Uint8Array(64).fill(7));
  await rec.close();
  symlinkSync(outside, join(dir, 'crafted.files', 'link'));
  const db = new Database(join(dir, 'crafted.db'));
  const insert = db.prepare(
    "INSERT INTO results (task_id, content_type, size, inline, file, ts) VALUES (?, 'v8', 10, NULL, ?, 1)",
  );
  for (const [id, file] of [
    ['up', UP],
    ['abs', outside],
    ['link', 'link'],
    ['slash', `sub/../${UP}`],
    ['back', UP.replaceAll('/', '\\')],
    ['nul', `good\0${UP}`],
    ['dots', '..'],
  ])
    insert.run(id, file);
  db.close();
  return { root, dir, store, outside, done: () => rmSync(root, { recursive: true, force: true }) };
}

function extract(archive: string): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-export-paths-x-'));
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  return {
    dir,
    files: readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name)),
  };
}

test('export skips result files whose names leave the results folder or are symlinks, and says so in the archive', async () => {
  const { root, store, done } = await craft();
  try {
    const out = join(root, 'out.tar.gz');
    const r = await store.export('crafted', out);
    assert.deepEqual(
      r.skipped.map((s) => s.file).sort(),
      [
        '..',
        UP,
        UP.replaceAll('/', '\\'),
        `good\0${UP}`,
        join(root, 'home', '.ssh', 'id_ed25519'),
        'link',
        `sub/../${UP}`,
      ].sort(),
    );
    for (const s of r.skipped) assert.match(s.reason, /plain file name|symlink|not a regular file/);
    const x = extract(out);
    try {
      for (const f of x.files) assert.ok(!readFileSync(f).includes(OUTSIDE), `${f} holds the outside file`);
      assert.deepEqual(x.files.map((f) => f.slice(x.dir.length + 1)).sort(), [
        'crafted/crafted.db',
        'crafted/crafted.files/good',
        'crafted/manifest.json',
      ]);
      const manifest = JSON.parse(readFileSync(join(x.dir, 'crafted', 'manifest.json'), 'utf8')) as {
        resultFiles: number;
        skippedResultFiles: { file: string; reason: string }[];
      };
      assert.equal(manifest.resultFiles, 1);
      assert.equal(manifest.skippedResultFiles.length, 7);
    } finally {
      rmSync(x.dir, { recursive: true, force: true });
    }
  } finally {
    done();
  }
});

test('orrery sessions export prints one warning line per skipped file', async () => {
  const { root, dir, done } = await craft();
  const home = process.env.ORRERY_HOME;
  process.env.ORRERY_HOME = join(dir, '..');
  try {
    const lines: string[] = [];
    await sessionsCommand(['export', 'crafted', join(root, 'cli.tar.gz')], false, (l) => lines.push(l));
    assert.equal(lines.filter((l) => /^warning: .*skipped/.test(l)).length, 7, lines.join('\n'));
    assert.ok(!lines.join('\n').includes(OUTSIDE));
  } finally {
    if (home === undefined) delete process.env.ORRERY_HOME;
    else process.env.ORRERY_HOME = home;
    done();
  }
});

test('reading such a result is refused with an error naming the task and the file; a good one reads', async () => {
  const { store, done } = await craft();
  try {
    const r = store.open('crafted');
    try {
      assert.equal(r.result('good')!.bytes.length, 64);
      for (const id of ['up', 'abs', 'link', 'slash', 'back', 'nul', 'dots']) {
        assert.throws(
          () => r.result(id),
          (e: unknown) =>
            e instanceof SessionUnsafeFileError && e.message.includes(`task ${id}`) && !e.message.includes(OUTSIDE),
        );
      }
    } finally {
      r.close();
    }
  } finally {
    done();
  }
});

test('a results folder that is itself a symlink is not followed', async () => {
  const { root, dir, store, done } = await craft();
  try {
    const elsewhere = join(root, 'elsewhere');
    renameSync(join(dir, 'crafted.files'), elsewhere);
    symlinkSync(elsewhere, join(dir, 'crafted.files'));
    const r = await store.export('crafted', join(root, 'o.tar.gz'));
    assert.ok(
      r.skipped.some((s) => s.file === 'good' && /symlink/.test(s.reason)),
      JSON.stringify(r.skipped),
    );
    const reader = store.open('crafted');
    try {
      assert.throws(() => reader.result('good'), SessionUnsafeFileError);
    } finally {
      reader.close();
    }
  } finally {
    done();
  }
});
