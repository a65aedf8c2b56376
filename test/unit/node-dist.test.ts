import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  defaultNodeVersion,
  distPlatformOf,
  nodeChoiceOf,
  parseShasums,
  parseTarballName,
  PINNED_NODE_VERSION,
  runtimeName,
  tarballName,
} from '../../backends/transport/ssh/node-dist.ts';
import { validateSshConfig } from '../../backends/ssh/config.ts';
import { validateSlurmConfig } from '../../backends/slurm/config.ts';

describe('Node distribution names', () => {
  test('uname -sm maps to the official distribution names', () => {
    const cases: [string, string | undefined][] = [
      ['Linux x86_64', 'linux-x64'],
      ['Linux aarch64\n', 'linux-arm64'],
      ['Darwin x86_64', 'darwin-x64'],
      ['Darwin arm64', 'darwin-arm64'],
      ['Linux ppc64le', 'linux-ppc64le'],
      ['Linux s390x', 'linux-s390x'],
      ['Linux armv7l', 'linux-armv7l'],
      ['Linux riscv64', undefined],
      ['Linux i686', undefined],
      ['FreeBSD amd64', undefined],
      ['Darwin ppc64le', undefined],
      ['MINGW64_NT-10.0 x86_64', undefined],
      ['', undefined],
    ];
    for (const [uname, want] of cases) {
      const p = distPlatformOf(uname);
      assert.equal(p ? `${p.os}-${p.arch}` : undefined, want, uname);
    }
  });

  test('tarball and runtime names round-trip', () => {
    const platform = { os: 'linux', arch: 'x64' } as const;
    assert.equal(tarballName('20.20.2', platform, 'gz'), 'node-v20.20.2-linux-x64.tar.gz');
    assert.equal(runtimeName('20.20.2', platform), '20.20.2-linux-x64');
    assert.deepEqual(parseTarballName('node-v22.11.0-darwin-arm64.tar.xz'), {
      version: '22.11.0',
      platform: { os: 'darwin', arch: 'arm64' },
      compression: 'xz',
    });
    assert.equal(parseTarballName('node-v20.20.2-linux-x64-musl.tar.gz')?.platform.arch, 'x64-musl');
    for (const bad of [
      'node-v20.20.2-win-x64.zip',
      'node-v20-linux-x64.tar.gz',
      'node-v20.1.0-linux-x64.tar.bz2',
      'x.tar.gz',
    ])
      assert.equal(parseTarballName(bad), undefined, bad);
  });

  test("the provisioned version is this head's own, unless it is not a plain release", () => {
    assert.equal(defaultNodeVersion('v20.20.2'), '20.20.2');
    assert.equal(defaultNodeVersion('v24.1.0'), '24.1.0');
    assert.equal(defaultNodeVersion('v23.0.0-rc.1'), PINNED_NODE_VERSION);
    assert.equal(defaultNodeVersion('v25.0.0-nightly2025'), PINNED_NODE_VERSION);
    assert.match(PINNED_NODE_VERSION, /^(2\d|[3-9]\d)\.\d+\.\d+$/);
  });

  test('SHASUMS256.txt lines become a map from file name to digest', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const sums = parseShasums(
      `${a}  node-v20.20.2-linux-x64.tar.gz\r\n${b} *node-v20.20.2-linux-x64.tar.xz\n` +
        `-----BEGIN PGP SIGNATURE-----\nnot a line\n${'c'.repeat(63)}  short.tar.gz\n${'d'.repeat(64)}  ./win-x64/node.exe\n`,
    );
    assert.deepEqual(
      [...sums],
      [
        ['node-v20.20.2-linux-x64.tar.gz', a],
        ['node-v20.20.2-linux-x64.tar.xz', 'b'.repeat(64)],
        ['win-x64/node.exe', 'd'.repeat(64)],
      ],
    );
  });
});

describe('node, nodeDist and nodePath in backend configs', () => {
  const ssh = { name: 'lab', kind: 'ssh', hosts: ['u@h:22'] };
  const slurm = { name: 'hpc', kind: 'slurm', loginHost: 'u@login' };

  test('accepted settings and what they mean', () => {
    assert.deepEqual(nodeChoiceOf(validateSshConfig(ssh)), { mode: 'auto', dist: undefined });
    assert.deepEqual(nodeChoiceOf(validateSshConfig({ ...ssh, node: 'system' })), { mode: 'fixed', path: 'node' });
    assert.deepEqual(nodeChoiceOf(validateSshConfig({ ...ssh, node: '/opt/n/bin/node' })), {
      mode: 'fixed',
      path: '/opt/n/bin/node',
    });
    assert.deepEqual(nodeChoiceOf(validateSshConfig({ ...ssh, nodePath: 'node20' })), {
      mode: 'fixed',
      path: 'node20',
    });
    const dist = { url: 'https://mirror.example/nodejs/dist' };
    assert.deepEqual(nodeChoiceOf(validateSlurmConfig({ ...slurm, node: 'bundled', nodeDist: dist })), {
      mode: 'bundled',
      dist,
    });
    const file = { file: '/srv/node-v20.20.2-linux-x64.tar.gz' };
    assert.deepEqual(nodeChoiceOf(validateSlurmConfig({ ...slurm, nodeDist: file })), { mode: 'auto', dist: file });
  });

  test('each wrong value is one TypeError naming the field and what is allowed', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ node: 'latest' }, /backend lab: node must be 'auto', 'system', 'bundled' or an absolute path/],
      [{ node: 'bin/node' }, /node must be .*absolute path/],
      [{ node: 20 }, /node must be/],
      [{ node: 'auto', nodePath: '/x/node' }, /nodePath must be left out when node is set/],
      [{ nodeDist: 'https://x' }, /nodeDist must be \{ url: .* \} or \{ file: .* \}/],
      [{ nodeDist: { url: 'x', file: 'y' } }, /nodeDist must be/],
      [{ nodeDist: { url: 'ftp://mirror/dist' } }, /nodeDist must be a url starting with https:\/\//],
      [{ nodeDist: { file: '/srv/node.tgz' } }, /nodeDist must be a file named like the official tarballs/],
      [
        { node: 'system', nodeDist: { url: 'https://m/dist' } },
        /nodeDist must be left out unless node is 'auto' or 'bundled'/,
      ],
    ];
    for (const [extra, message] of cases) {
      assert.throws(
        () => validateSshConfig({ ...ssh, ...extra }),
        (e: Error) => e instanceof TypeError && message.test(e.message),
        JSON.stringify(extra),
      );
      assert.throws(() => validateSlurmConfig({ ...slurm, ...extra }), TypeError, JSON.stringify(extra));
    }
  });
});
