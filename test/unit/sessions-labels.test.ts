/**
 * Session labels (title, notes, tags): stored in the session's meta table, listed and shown,
 * kept across a resumed recording, never a rename of the file, and bad input refused by field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SessionLabelsError,
  SessionNotFoundError,
  SessionStore,
  validateLabelsPatch,
} from '../../orchestrator/sessions/index.ts';

function withStore(f: (store: SessionStore) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-labels-'));
    try {
      await f(new SessionStore({ dir }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'labels are stored with the session, listed and shown, and survive a resumed recording',
  withStore(async (store) => {
    await store.record('run-1', { orreryVersion: 't', config: { backends: [] } }).close();
    const before = readdirSync(store.dir).sort();
    const l = store.label(
      'run-1',
      validateLabelsPatch({ title: '  VQE, ansatz B  ', notes: 'line 1\r\nline 2', tags: ['vqe', 'h2', 'vqe'] }),
    );
    assert.deepEqual(l, { title: 'VQE, ansatz B', notes: 'line 1\nline 2', tags: ['vqe', 'h2'] });
    assert.deepEqual(readdirSync(store.dir).sort(), before, 'no file renamed or added');
    const row = store.list().find((s) => s.name === 'run-1')!;
    assert.deepEqual([row.title, row.notes, row.tags], ['VQE, ansatz B', 'line 1\nline 2', ['vqe', 'h2']]);
    assert.equal(store.show('run-1').title, 'VQE, ansatz B');

    // Only the named fields change; a resumed recording keeps every label.
    store.label('run-1', validateLabelsPatch({ tags: ['h2'] }));
    const rec = store.record('run-1', { orreryVersion: 't', resume: true });
    store.label('run-1', validateLabelsPatch({ notes: 'written while a head records it' }));
    await rec.close();
    const d = store.show('run-1');
    assert.deepEqual(
      [d.name, d.title, d.notes, d.tags, d.status],
      ['run-1', 'VQE, ansatz B', 'written while a head records it', ['h2'], 'finished'],
    );
    // An empty or null title clears it: the session shows by its name again.
    assert.equal(store.label('run-1', validateLabelsPatch({ title: '' })).title, null);
    assert.equal(store.list()[0]!.title, null);
    assert.throws(() => store.label('nope', {}), SessionNotFoundError);
    assert.ok(!existsSync(join(store.dir, 'nope.db')));
  }),
);

test('a bad labels patch names its field and says what to do', () => {
  const bad: [unknown, RegExp][] = [
    [null, /^body: send a JSON object/],
    [['x'], /^body:/],
    [{ name: 'x' }, /^body: "name" is not a session label; use title, notes or tags/],
    [JSON.parse('{"__proto__": 1}'), /^body: "__proto__" is not a session label/],
    [{ title: 3 }, /^title: must be a string/],
    [{ title: 'a\nb' }, /^title: must be one line/],
    [{ title: 'x'.repeat(121) }, /^title: is 121 characters; keep it to 120/],
    [{ notes: ['x'] }, /^notes: must be a string/],
    [{ tags: 'vqe' }, /^tags: must be an array/],
    [{ tags: ['ok', 'two words'] }, /^tags\[1\]: "two words" is not a tag/],
    [{ tags: ['a,b'] }, /^tags\[0\]:/],
    [{ tags: Array.from({ length: 25 }, (_, i) => `t${i}`) }, /^tags: has 25 tags; keep it to 24/],
  ];
  for (const [body, message] of bad) {
    assert.throws(
      () => validateLabelsPatch(body),
      (err: unknown) => err instanceof SessionLabelsError && err instanceof TypeError && message.test(err.message),
      JSON.stringify(body),
    );
  }
  assert.deepEqual(validateLabelsPatch({ title: null, tags: [' Ω-1 ', 'lr=0.1'] }), {
    title: null,
    tags: ['Ω-1', 'lr=0.1'],
  });
});
