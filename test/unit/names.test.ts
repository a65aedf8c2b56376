/**
 * Names users choose are checked where they enter: no `__proto__`, `constructor` or
 * `prototype` (they would reach a plain object's prototype instead of a key of its own), no
 * control characters, no empty name where one is required. Ordinary punctuation stays legal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidNameError } from '../../orchestrator/core/errors.ts';
import { checkName } from '../../orchestrator/core/names.ts';
import { remote } from '../../orchestrator/api/remote.ts';
import { normalizePlacementGroup } from '../../orchestrator/core/placement-group-options.ts';
import { validateSessionName } from '../../orchestrator/sessions/index.ts';
import { storeSecret } from '../../orchestrator/core/keychain.ts';
import { validatePlacementRules } from '../../orchestrator/scheduler/placement-rules.ts';
import { createBackend } from '../../orchestrator/head/backend-registry.ts';
import { findConfig } from '../../orchestrator/head/config-file.ts';
import { tempDir } from '../integration/helpers.ts';

const RESERVED = ['__proto__', 'constructor', 'prototype'];
const HOSTILE = [...RESERVED, 'tab\there', 'line\nbreak', 'nul\u0000', 'bell\u0007', 'del\u007f', 'c1\u0085'];

/** A record whose own keys are exactly `keys` (JSON.parse defines `__proto__` as an own key, as the wire does). */
function withKeys(keys: readonly string[], value: unknown): Record<string, unknown> {
  return JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value)}`).join(',')}}`);
}

/** Asserts that `f` throws an InvalidNameError whose message names `field` and says what is allowed. */
function refused(f: () => unknown, field: RegExp | string, what: string): void {
  assert.throws(
    f,
    (err: unknown) => {
      assert.ok(err instanceof InvalidNameError, `${what}: ${String(err)}`);
      assert.match(
        err.message,
        typeof field === 'string' ? new RegExp(field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : field,
        what,
      );
      assert.match(err.message, /__proto__, constructor or prototype/, what);
      return true;
    },
    what,
  );
}

test('checkName refuses the reserved names, control characters and the empty name; punctuation is fine', () => {
  for (const n of HOSTILE) refused(() => checkName('backend name', n), 'backend name', JSON.stringify(n));
  refused(() => checkName('backend name', ''), 'backend name', 'empty');
  assert.throws(() => checkName('backend name', 7), /backend name must be a non-empty name/);
  for (const ok of [
    'x;touch /tmp/p',
    "it's",
    'a b',
    '$HOME',
    'a-b.c/d',
    'Ünïcödé',
    '__proto',
    'proto__',
    'Constructor',
  ])
    assert.equal(checkName('backend name', ok), ok);
});

test('task and actor options: names, namespaces, backends, custom resources and label keys', () => {
  const fn = (x: number) => x;
  for (const n of HOSTILE) {
    refused(() => remote({ name: n }, fn), 'option name', `task name ${JSON.stringify(n)}`);
    refused(() => remote({ backend: n }, fn), 'option backend', `task backend ${JSON.stringify(n)}`);
  }
  class Box {
    v() {
      return 1;
    }
  }
  for (const n of RESERVED) {
    refused(() => remote({ name: n }, Box), 'option name', `actor name ${n}`);
    refused(() => remote({ namespace: n }, Box), 'option namespace', `actor namespace ${n}`);
    refused(
      () => remote({ resources: withKeys([n], 1) as Record<string, number> }, fn),
      'option resources',
      `resource ${n}`,
    );
    refused(
      () => remote({ resources: withKeys([n], 1) as Record<string, number> }, Box),
      'option resources',
      `actor resource ${n}`,
    );
    refused(
      () => remote({ labelSelector: withKeys([n], 'x') as Record<string, string> }, fn),
      'option labelSelector',
      `label key ${n}`,
    );
  }
  // A function whose own name is reserved needs a name option.
  const named = { ['constructor' as string]: () => 1 }.constructor as () => number;
  refused(() => remote(named), /remote\(\): the function's name/, 'a function named constructor');
  assert.equal(remote({ name: 'x;touch /tmp/p' }, fn).name, 'x;touch /tmp/p');
});

test('placement groups, sessions, secrets and placement rules', async () => {
  for (const n of RESERVED) {
    refused(() => normalizePlacementGroup([{ CPU: 1 }], { name: n }), 'option name', `group ${n}`);
    refused(() => normalizePlacementGroup([withKeys([n], 1)], undefined), 'bundles[0]', `bundle key ${n}`);
    assert.throws(() => validateSessionName(n), /session name .* (is invalid|must)/, `session ${n}`);
    await assert.rejects(storeSecret(n, 'value'), /secret name/, `secret ${n}`);
    assert.throws(
      () => validatePlacementRules([{ match: {}, require: { backend: n } }]),
      /placementRules\[0\]\.require\.backend/,
      `rule backend ${n}`,
    );
    assert.throws(
      () => validatePlacementRules([{ match: {}, prefer: { labels: withKeys([n], 'x') } }]),
      /placementRules\[0\]\.prefer\.labels/,
      `rule label ${n}`,
    );
  }
});

test('backend configs: reserved names and the kind constructor are refused, naming the allowed kinds', async () => {
  for (const n of RESERVED)
    await assert.rejects(createBackend({ name: n, kind: 'local' }), InvalidNameError, `backend ${n}`);
  for (const kind of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    await assert.rejects(
      createBackend({ name: 'b', kind }),
      new RegExp(`backend b: unknown kind ${JSON.stringify(kind)}; use one of local, ssh, slurm`),
      kind,
    );
  }
  await assert.rejects(
    createBackend({ name: 'b', kind: 'local', labels: withKeys(['constructor'], 'x') }),
    /backend b: labels key/,
  );
  await assert.rejects(
    createBackend({ name: 'b', kind: 'local', resources: withKeys(['__proto__'], 1) }),
    /backend b: resources key/,
  );
});

test('a config file is checked when it is read: names, kinds and duplicates, with the file and the backend', () => {
  const dir = tempDir('names-config');
  const file = join(dir, 'orrery.json');
  const cases: [unknown[], RegExp][] = [
    [
      [{ name: '__proto__', kind: 'local' }],
      /backends\[0\]\.name must be a non-empty name .*__proto__, constructor or prototype \(got "__proto__"\)/,
    ],
    [
      [
        { name: 'ok', kind: 'local' },
        { name: 'ok', kind: 'local' },
      ],
      /backends\[1\]: a backend named "ok" is already listed \(backends\[0\]\); backend names must be unique/,
    ],
    [
      [{ name: 'k', kind: 'constructor' }],
      /backend k: unknown kind "constructor"; use one of local, ssh, slurm, sagemaker, quantum-simulator, ibm-quantum, braket or 'module:<package or \.\/path relative to this file>'/,
    ],
    [
      [{ name: 'm', kind: 'module:data:text/javascript,export default 1' }],
      /backend m: module data:text\/javascript.* is not allowed/,
    ],
    [
      [{ name: 'a', kind: 'module:/abs/path.ts' }],
      /backend a: module \/abs\/path\.ts is not allowed: .*relative to the config file/,
    ],
  ];
  for (const [backends, message] of cases) {
    writeFileSync(file, JSON.stringify({ backends }));
    assert.throws(
      () => findConfig(file),
      (err: Error) => {
        assert.ok(err.message.includes(file), err.message);
        assert.match(err.message, message);
        return true;
      },
    );
  }
  writeFileSync(
    file,
    JSON.stringify({
      backends: [
        { name: 'x;touch /tmp/p', kind: 'local' },
        { name: 'mod', kind: 'module:./my-backend.ts' },
      ],
    }),
  );
  assert.deepEqual(
    findConfig(file).backends.map((b) => b.name),
    ['x;touch /tmp/p', 'mod'],
  );
});
