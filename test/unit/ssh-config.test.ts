import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hostMatches,
  matchesPattern,
  parseHostSpec,
  resolveTarget,
  SshConfigError,
} from '../../backends/transport/ssh/ssh-config.ts';

const ctx = (configText: string) => ({ configText, home: '/home/me', localUser: 'me' });

test('host strings: user@host:port, host, IPv6 in brackets', () => {
  assert.deepEqual(parseHostSpec('alice@gpu1.lab:2222'), { user: 'alice', host: 'gpu1.lab', port: 2222 });
  assert.deepEqual(parseHostSpec('gpu1'), { user: undefined, host: 'gpu1', port: undefined });
  assert.deepEqual(parseHostSpec('bob@[::1]:2200'), { user: 'bob', host: '::1', port: 2200 });
  assert.deepEqual(parseHostSpec('::1'), { user: undefined, host: '::1', port: undefined });
});

test('bad host strings say what is wrong', () => {
  assert.throws(
    () => parseHostSpec('a@b:99999'),
    (e: Error) => e instanceof SshConfigError && /port "99999" must be an integer from 1 to 65535/.test(e.message),
  );
  assert.throws(() => parseHostSpec('@host'), /the user before @ is empty/);
  assert.throws(() => parseHostSpec('a b'), /no spaces/);
  assert.throws(() => parseHostSpec('user@:22'), /host name is empty/);
});

test('patterns: * and ?, case-insensitive, negation in a list', () => {
  assert.ok(matchesPattern('gpu12.lab', 'gpu*.lab'));
  assert.ok(matchesPattern('gpu1', 'gpu?'));
  assert.ok(!matchesPattern('gpu12', 'gpu?'));
  assert.ok(matchesPattern('GPU1', 'gpu1'));
  assert.ok(matchesPattern('a.b', 'a.b') && !matchesPattern('axb', 'a.b'));
  assert.ok(hostMatches('gpu3', ['gpu*', '!gpu4']));
  assert.ok(!hostMatches('gpu4', ['gpu*', '!gpu4']));
  assert.ok(!hostMatches('gpu4', ['!gpu4']));
});

test('an alias resolves through HostName, User, Port, IdentityFile with ~ and % tokens', () => {
  const t = resolveTarget(
    'gpu1',
    ctx(`
# comment
Host gpu?
  HostName %h.cluster.example
  User alice
  Port 2222
  IdentityFile ~/.ssh/id_%h
  IdentityFile "/keys/with space"
Host *
  User nobody
  IdentityFile %d/.ssh/id_ed25519
`),
  );
  assert.equal(t.host, 'gpu1.cluster.example');
  assert.equal(t.user, 'alice');
  assert.equal(t.port, 2222);
  assert.deepEqual(t.identityFiles, [
    '/home/me/.ssh/id_gpu1.cluster.example',
    '/keys/with space',
    '/home/me/.ssh/id_ed25519',
  ]);
  assert.deepEqual(t.jumps, []);
  assert.equal(t.alias, 'gpu1');
});

test('the first value obtained wins; the host string beats the config', () => {
  const cfg = `Host a\n  Port 1111\nHost *\n  Port 2222\n  User bob\n`;
  assert.equal(resolveTarget('a', ctx(cfg)).port, 1111);
  assert.equal(resolveTarget('b', ctx(cfg)).port, 2222);
  const t = resolveTarget('carol@a:3333', ctx(cfg));
  assert.equal(t.port, 3333);
  assert.equal(t.user, 'carol');
  assert.equal(t.host, 'a');
});

test('keyword=value syntax, case-insensitive keywords, Match blocks skipped', () => {
  const cfg = `HOST=x\n  hostname=10.0.0.5\n  USER = dave\nMatch exec "true"\n  User mallory\nHost y\n  Port 7\n`;
  const t = resolveTarget('x', ctx(cfg));
  assert.equal(t.host, '10.0.0.5');
  assert.equal(t.user, 'dave');
  assert.equal(resolveTarget('y', ctx(cfg)).user, 'me');
});

test('defaults: local user, port 22, no keys, no jumps', () => {
  const t = resolveTarget('host.example', ctx(''));
  assert.deepEqual(
    { ...t },
    { alias: 'host.example', host: 'host.example', port: 22, user: 'me', identityFiles: [], jumps: [] },
  );
});

test('ProxyJump: a chain of jump hosts, each resolved through the config', () => {
  const cfg = `
Host inner
  HostName 10.1.2.3
  ProxyJump bastion,ops@hop2:2022
Host bastion
  HostName bastion.example
  User jump
  IdentityFile ~/.ssh/bastion
  ProxyJump ignored-loop
`;
  const t = resolveTarget('inner', ctx(cfg));
  assert.equal(t.host, '10.1.2.3');
  assert.equal(t.jumps.length, 2);
  assert.deepEqual(
    t.jumps.map((j) => [j.user, j.host, j.port, j.identityFiles, j.jumps.length]),
    [
      ['jump', 'bastion.example', 22, ['/home/me/.ssh/bastion'], 0],
      ['ops', 'hop2', 2022, [], 0],
    ],
  );
  assert.deepEqual(resolveTarget('x', ctx('Host x\n ProxyJump none\n')).jumps, []);
});

test('an invalid Port in the config is named', () => {
  assert.throws(() => resolveTarget('a', ctx('Host a\n Port abc\n')), /Port "abc" for host a must be an integer/);
});
