/**
 * Config files with comments and trailing commas (JSONC, core/jsonc.ts): the one reader takes
 * them and names the line and column of a mistake; the dashboard's writer edits them as text,
 * keeping every comment (as in the file `orrery init` writes), or refuses an edit that would
 * drop one, leaving the file as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsoncSyntaxError, parseJsonc } from '../../orchestrator/core/jsonc.ts';
import { readConfigFile } from '../../orchestrator/head/config-file.ts';
import { ConfigFileWriter } from '../../orchestrator/service/dashboard-config-file.ts';
import { tempDir } from '../integration/helpers.ts';

const TEMPLATE = new URL('../../resources/templates/project/orrery.json', import.meta.url);

function file(text: string): string {
  const path = join(tempDir('config-jsonc'), 'orrery.json');
  writeFileSync(path, text);
  return path;
}

/** The comment lines of a text, trimmed. */
function comments(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('//') || l.startsWith('/*') || l.startsWith('*/'));
}

test('parseJsonc: line and block comments, trailing commas; comment markers inside strings are text', () => {
  const text = `// head
{
  "a": "http://x/*y*/", /* inline */ "b": [1, 2,], // tail
  "c": "quote \\" // still a string",
  /* a block
     over lines */
  "d": { "e": null, },
}`;
  assert.deepEqual(parseJsonc(text), {
    a: 'http://x/*y*/',
    b: [1, 2],
    c: 'quote " // still a string',
    d: { e: null },
  });
  assert.throws(() => parseJsonc('[,]'), /^JsoncSyntaxError: line 1, column 2: ValueExpected$/);
  assert.throws(() => parseJsonc('[1,,]'), /line 1, column 4/);
  assert.throws(() => parseJsonc(''), /line 1, column 1: ValueExpected/);
  // Plain objects, as JSON.parse makes them: a "__proto__" key is an own property, not the prototype.
  const proto = parseJsonc('{ "__proto__": { "numCpus": 9 }, }') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ['__proto__']);
  assert.equal(proto.numCpus, undefined);
});

test('a mistake is reported at its line and column of the file, comments counted', () => {
  const cases: [string, number, number, RegExp][] = [
    ['// one\n/* two */ {\n  "backends": [] x\n}', 3, 18, /^InvalidSymbol$/],
    ['{\n  "backends": [\n    /* never closed\n  ]\n}', 3, 5, /^UnexpectedEndOfComment$/],
    ['{\n  "backends": [,,]\n}', 2, 16, /^ValueExpected$/],
    ['{ "backends": [', 1, 16, /^CloseBracketExpected$/],
  ];
  for (const [text, line, column, reason] of cases) {
    assert.throws(
      () => parseJsonc(text),
      (e: unknown) => e instanceof JsoncSyntaxError && e.line === line && e.column === column && reason.test(e.reason),
      text,
    );
    const path = file(text);
    assert.throws(
      () => readConfigFile(path),
      (e: Error) =>
        e.message.startsWith(`config file ${path} is not valid JSON (comments and trailing commas are allowed): `) &&
        e.message.includes(`line ${line}, column ${column}: `),
      text,
    );
  }
});

test("the dashboard's edits keep every comment of the generated config, and each result loads", () => {
  const original = readFileSync(TEMPLATE, 'utf8');
  const path = file(original);
  const writer = new ConfigFileWriter(path);
  const names = () => readConfigFile(path).backends.map((b) => b.name);
  const keepsComments = () => assert.deepEqual(comments(readFileSync(path, 'utf8')), comments(original));

  writer.putBackend({ name: 'extra', kind: 'local', numCpus: 1 });
  keepsComments();
  // The entry an added one follows keeps its layout (only the new text is formatted).
  assert.match(
    readFileSync(path, 'utf8'),
    /\n {4}\{ "name": "sim", "kind": "quantum-simulator", "seed": 7 \},\n {4}\{\n {6}"name": "extra",/,
  );
  assert.deepEqual(names(), ['sim', 'extra']);
  writer.putBackend({ name: 'extra', kind: 'local', numCpus: 2, labels: { zone: 'a' } });
  keepsComments();
  assert.deepEqual(readConfigFile(path).backends[1], {
    name: 'extra',
    kind: 'local',
    numCpus: 2,
    labels: { zone: 'a' },
  });
  writer.setPlacementRules([{ match: { name: 'train*' }, require: { backend: 'extra' } }]);
  writer.setPlacementRules([{ match: { kind: 'circuit' }, require: { backend: 'sim' } }]);
  keepsComments();
  assert.deepEqual(readConfigFile(path).placementRules, [{ match: { kind: 'circuit' }, require: { backend: 'sim' } }]);
  writer.removeBackend('extra');
  writer.removeBackend('sim');
  keepsComments();
  assert.deepEqual(names(), []);
  writer.putBackend({ name: 'sim2', kind: 'quantum-simulator' });
  keepsComments();
  assert.deepEqual(names(), ['sim2']);
});

test('removing the last entry takes its trailing comma; a file without backends gets the key', () => {
  const path = file(
    '{\n  // mine\n  "backends": [\n    { "name": "a", "kind": "local" },\n    { "name": "b", "kind": "local" },\n  ],\n}\n',
  );
  new ConfigFileWriter(path).removeBackend('b');
  assert.equal(
    readFileSync(path, 'utf8'),
    '{\n  // mine\n  "backends": [\n    { "name": "a", "kind": "local" },\n  ],\n}\n',
  );
  const bare = file('/* rules only */ { "placementRules": [] }');
  new ConfigFileWriter(bare).putBackend({ name: 'x', kind: 'local' });
  assert.ok(readFileSync(bare, 'utf8').startsWith('/* rules only */'));
  assert.deepEqual(readConfigFile(bare).backends, [{ name: 'x', kind: 'local' }]);
});

test('an edit that would drop a comment inside the entry it rewrites is refused and the file is untouched', () => {
  const text =
    '{\n  "backends": [\n    { "name": "a", "kind": "local", /* 2 on the big box */ "numCpus": 2 },\n  ],\n  "placementRules": [ /* none yet */ ],\n}\n';
  const path = file(text);
  const writer = new ConfigFileWriter(path);
  assert.throws(
    () => writer.putBackend({ name: 'a', kind: 'local', numCpus: 4 }),
    new RegExp(`config file ${path}: backend a has comments inside it that the dashboard would drop .*edit it by hand`),
  );
  assert.throws(() => writer.setPlacementRules([]), /placementRules has comments inside it/);
  assert.equal(readFileSync(path, 'utf8'), text);
  writer.putBackend({ name: 'b', kind: 'local' });
  assert.match(readFileSync(path, 'utf8'), /\/\* 2 on the big box \*\/[\s\S]*\/\* none yet \*\//);
});

test('an edit whose result would not read back as intended is refused: a key given twice (the last one counts)', () => {
  const text = '// rules\n{ "placementRules": [], "placementRules": [] }\n';
  const path = file(text);
  assert.throws(
    () => new ConfigFileWriter(path).setPlacementRules([{ match: { kind: 'circuit' }, require: { backend: 'local' } }]),
    new RegExp(`config file ${path}: the dashboard could not edit it without losing its comments`),
  );
  assert.equal(readFileSync(path, 'utf8'), text);
});
