/** The head host's settings for `orrery start --on`: `--on` and the config file's `head` entry, checked at the boundary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromLoginRecord, headHostConfig, loginRecord } from '../../orchestrator/remote-head/head-host-config.ts';
import { HeadHostConfigError } from '../../orchestrator/remote-head/remote-head-errors.ts';

test('--on wins over head.host; the head runs on a provisioned Node unless told otherwise', () => {
  const c = headHostConfig('bob@login2', { host: 'alice@login1', identityFile: '~/.ssh/k' }, 'config file x');
  assert.equal(c.host, 'bob@login2');
  assert.equal(c.node, 'bundled');
  assert.equal(c.identityFile, '~/.ssh/k');
  assert.equal(headHostConfig(undefined, { host: 'alice@login1', node: 'system' }, 'x').node, 'system');
});

test('a missing host, an unknown key, a bad type or a bad nodeDist is one error naming the field', () => {
  assert.throws(
    () => headHostConfig(undefined, undefined, 'x'),
    (e: Error) => e instanceof HeadHostConfigError && /no head host given: pass --on user@host/.test(e.message),
  );
  assert.throws(
    () => headHostConfig('h', { hots: 'h' }, 'config file x'),
    /config file x: head has unknown key hots; allowed: host, /,
  );
  assert.throws(() => headHostConfig('h', { identityFile: 3 }, 'x'), /head\.identityFile must be a non-empty string/);
  assert.throws(() => headHostConfig('h', { nodeDist: { url: 'ftp://x' } }, 'x'), /head\.nodeDist must be/);
});

test('the record kept in head.json holds no secret and reads back to the same settings', () => {
  const c = headHostConfig('alice@login1:2200', { passphraseSecret: 'lab-key', knownHostsFile: '/k' }, 'x');
  const r = loginRecord(c);
  assert.deepEqual(Object.keys(r).sort(), ['host', 'knownHostsFile', 'node', 'passphraseSecret']);
  assert.deepEqual(fromLoginRecord(r), c);
});
