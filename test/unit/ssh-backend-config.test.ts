import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSshBackend } from '../../backends/ssh/index.ts';

const base = { name: 'gpus', kind: 'ssh', hosts: ['alice@gpu1:2222'] };

test('a valid config makes a backend of kind ssh', () => {
  const b = createSshBackend({
    ...base,
    identityFile: '~/.ssh/id_ed25519',
    passphraseSecret: 'gpu-key',
    labels: { zone: 'a' },
    numCpus: 4,
    numGpus: 1,
    resources: { disk: 100 },
  });
  assert.equal(b.name, 'gpus');
  assert.equal(b.kind, 'ssh');
  assert.equal(typeof b.check, 'function');
});

test('each bad field is named with what is allowed', () => {
  const cases: [unknown, RegExp][] = [
    [null, /must be an object/],
    [{ ...base, name: '' }, /name must be a non-empty string/],
    [{ ...base, kind: 'local' }, /kind must be 'ssh'/],
    [{ ...base, hosts: [] }, /hosts must be a non-empty array/],
    [{ ...base, hosts: 'gpu1' }, /hosts must be a non-empty array/],
    [{ ...base, hosts: ['a@b:0'] }, /hosts\[0\]: .*port "0" must be an integer from 1 to 65535/],
    [{ ...base, hosts: ['gpu1', 'gpu1'] }, /hosts must be a list without duplicates/],
    [{ ...base, identityFile: 3 }, /identityFile must be a non-empty string \(got 3\)/],
    [{ ...base, passphraseSecret: 'x' }, /passphraseSecret must be set together with identityFile/],
    [{ ...base, numGpus: 1.5 }, /numGpus must be an integer >= 0/],
    [{ ...base, numCpus: -1 }, /numCpus must be a number >= 0/],
    [{ ...base, labels: { a: 1 } }, /labels must be an object of string values/],
    [{ ...base, resources: { a: 'x' } }, /resources must be an object of numbers >= 0/],
    [{ ...base, maxSessions: 0 }, /maxSessions must be an integer >= 1/],
    [{ ...base, host: 'x' }, /unknown key host for kind ssh; allowed: name, kind, hosts/],
  ];
  for (const [config, re] of cases) assert.throws(() => createSshBackend(config), re, JSON.stringify(config));
});
