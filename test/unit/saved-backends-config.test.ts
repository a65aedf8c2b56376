/**
 * The config file's `savedBackends` (backends the dashboard saved without starting): the reader
 * checks each name is a listed backend and `backendsToStart` leaves them out; the dashboard's
 * writer puts a backend on or off the list with the same edit that writes it, in plain JSON and
 * in a file with comments (kept), and drops the key with its last name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendsToStart, readConfigFile } from '../../orchestrator/head/config-file.ts';
import { ConfigFileWriter } from '../../orchestrator/service/dashboard-config-file.ts';
import { tempDir } from '../integration/helpers.ts';

function file(text: string): string {
  const path = join(tempDir('saved-backends-config'), 'orrery.json');
  writeFileSync(path, text);
  return path;
}

const LAB = { name: 'lab', kind: 'local', numCpus: 1 };
const FAR = { name: 'far', kind: 'local', numCpus: 1 };

test('savedBackends: read and left out of the backends to start', () => {
  const cfg = readConfigFile(file(JSON.stringify({ backends: [LAB, FAR], savedBackends: ['far'] })));
  assert.deepEqual(cfg.savedBackends, ['far']);
  assert.deepEqual(
    backendsToStart(cfg).map((b) => b.name),
    ['lab'],
  );
  assert.deepEqual(readConfigFile(file(JSON.stringify({ backends: [LAB] }))).savedBackends, []);
});

test('savedBackends: a name that is not a listed backend, or not a list of names, is one clear error', () => {
  const missing = file(JSON.stringify({ backends: [LAB], savedBackends: ['gone'] }));
  assert.throws(
    () => readConfigFile(missing),
    (e: Error) =>
      e instanceof TypeError &&
      e.message.includes(missing) &&
      /savedBackends\[0\] names "gone", which is not in backends; remove it from savedBackends or add the backend/.test(
        e.message,
      ),
  );
  assert.throws(
    () => readConfigFile(file(JSON.stringify({ backends: [LAB], savedBackends: 'lab' }))),
    /savedBackends must be an array of backend names/,
  );
});

test('the writer puts a backend on savedBackends and off it again (plain JSON); the key goes with its last name', () => {
  const path = file(JSON.stringify({ backends: [LAB] }));
  const w = new ConfigFileWriter(path);
  w.putBackend(FAR, true);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).savedBackends, ['far']);
  assert.deepEqual(readConfigFile(path).savedBackends, ['far']);
  w.putBackend(FAR);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).savedBackends, undefined);
  w.putBackend(FAR, true);
  w.removeBackend('far');
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(doc.savedBackends, undefined, 'a removed backend leaves the list');
  assert.deepEqual(
    doc.backends.map((b: { name: string }) => b.name),
    ['lab'],
  );
});

test('the writer edits savedBackends in a file with comments, keeping them', () => {
  const path = file(`// my cluster
{
  // the lab machine
  "backends": [
    { "name": "lab", "kind": "local", "numCpus": 1 }, // fast
  ],
}
`);
  const w = new ConfigFileWriter(path);
  w.putBackend(FAR, true);
  const text = readFileSync(path, 'utf8');
  for (const c of ['// my cluster', '// the lab machine', '// fast']) assert.ok(text.includes(c), `${c} kept`);
  assert.deepEqual(readConfigFile(path).savedBackends, ['far']);
  w.putBackend(FAR);
  assert.deepEqual(readConfigFile(path).savedBackends, []);
  assert.ok(readFileSync(path, 'utf8').includes('// the lab machine'));
});
