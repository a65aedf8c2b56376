/**
 * The one config file reader (head/config-file.ts): init({ config }), the CLI and the dashboard
 * read a file with the same rules, and the dashboard's writer refuses to edit a file they
 * would refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findConfig, readConfigDocument, readConfigFile } from '../../orchestrator/head/config-file.ts';
import { InvalidPlacementRuleError } from '../../orchestrator/scheduler/placement-rules.ts';
import { ConfigFileWriter } from '../../orchestrator/service/dashboard-config-file.ts';
import { tempDir } from '../integration/helpers.ts';

function configWith(doc: unknown): string {
  const file = join(tempDir('config-file'), 'orrery.json');
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return file;
}

test('a valid file gives its checked backends, validated rules, and module paths relative to it', () => {
  const file = configWith({
    backends: [{ name: 'extra', kind: 'local', numCpus: 1 }],
    placementRules: [{ match: { name: 'train*' }, require: { backend: 'extra' } }],
  });
  for (const cfg of [readConfigFile(file), findConfig(file)]) {
    assert.equal(cfg.path, file);
    assert.deepEqual(
      cfg.backends.map((b) => b.name),
      ['extra'],
    );
    assert.deepEqual(cfg.placementRules, [{ match: { name: 'train*' }, require: { backend: 'extra' } }]);
    assert.deepEqual(cfg.modules, {
      allow: 'relative',
      baseDir: join(file, '..'),
      baseName: `the config file (${file})`,
    });
  }
  assert.equal(readConfigFile(configWith({})).placementRules, undefined);
});

test('init() and the CLI refuse the same files, naming the file', () => {
  const cases: [unknown, RegExp][] = [
    [{ backend: [] }, /has unknown key backend; allowed: backends, placementRules/],
    ['{ "backends": [ ', /is not valid JSON/],
    [[1, 2], /must hold an object \{ backends\?, placementRules\? \}/],
    [{ backends: {} }, /backends must be an array of backend configs/],
    [{ placementRules: [{ match: { kind: 'gpu' } }] }, /placementRules\[0\]\.match\.kind/],
    [{ placementRules: 'all' }, /placementRules must be an array of rules/],
  ];
  for (const [doc, message] of cases) {
    const file = configWith(doc);
    assert.throws(
      () => readConfigFile(file, 'init(): '),
      (e: Error) => e.message.startsWith(`init(): config file ${file}`) && message.test(e.message),
      JSON.stringify(doc),
    );
    assert.throws(
      () => findConfig(file),
      (e: Error) => e.message.startsWith(`config file ${file}`) && message.test(e.message),
      JSON.stringify(doc),
    );
  }
  assert.throws(() => findConfig(configWith({ placementRules: [{ match: 1 }] })), InvalidPlacementRuleError);
  const missing = join(tempDir('config-file'), 'missing.json');
  assert.throws(() => findConfig(missing), new RegExp(`cannot read config file ${missing}: it does not exist`));
  assert.throws(() => readConfigFile(missing, 'init(): '), /^Error: init\(\): cannot read config file/);
});

test('readConfigDocument: undefined for a missing file, the document for a valid one', () => {
  assert.equal(readConfigDocument(join(tempDir('config-file'), 'none.json')), undefined);
  assert.deepEqual(readConfigDocument(configWith({ placementRules: [] })), { placementRules: [] });
});

test('the dashboard writer edits through the reader: keeps what it does not edit, refuses a file orrery start would refuse', () => {
  const file = configWith({ backends: [{ name: 'a', kind: 'local' }], placementRules: [{ match: {} }] });
  const writer = new ConfigFileWriter(file);
  writer.putBackend({ name: 'b', kind: 'local', numCpus: 2 });
  writer.removeBackend('a');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    backends: [{ name: 'b', kind: 'local', numCpus: 2 }],
    placementRules: [{ match: {} }],
  });
  assert.equal(statSync(file).mode & 0o777, 0o600);

  const odd = configWith({ backends: [], extra: true });
  const before = readFileSync(odd, 'utf8');
  assert.throws(
    () => new ConfigFileWriter(odd).setPlacementRules([]),
    /config file .* has unknown key extra; .*fix it by hand, then try again/,
  );
  assert.equal(readFileSync(odd, 'utf8'), before);

  const fresh = join(tempDir('config-file'), 'sub', 'config.json');
  new ConfigFileWriter(fresh).setPlacementRules([{ match: { kind: 'command' } }]);
  assert.deepEqual(findConfig(fresh).placementRules, [{ match: { kind: 'command' } }]);
});
