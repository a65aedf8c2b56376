/** Shell quoting: every hostile value stays one word, checked by a real /bin/sh reading it back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellCommand, shellPath, shellQuote } from '../../backends/transport/shell-quote.ts';

const marker = join(mkdtempSync(join(tmpdir(), 'orrery-quote-')), 'pwned');

/** Values a backend name, path or job name may hold (names refuse only control characters and prototype keys). */
const HOSTILE = [
  `x;touch ${marker}`,
  `a'b`,
  `it's "quoted"`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  'two  spaces and\ttab',
  '--name=a,b',
  '*',
  '~',
  '~user',
  '',
  `'`,
  `\\'\\`,
  '$HOME',
  '!event',
  '#comment',
  'a|b&c>d<e',
  'é ☃',
];

test('plain words stay as they are; the rest is single-quoted', () => {
  assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node');
  assert.equal(shellQuote('--job-name=orrery-hpc-0123'), '--job-name=orrery-hpc-0123');
  assert.equal(shellQuote(`{"a":"it's"}`), `'{"a":"it'\\''s"}'`);
  assert.equal(shellQuote('$(rm -rf /)'), `'$(rm -rf /)'`);
  assert.equal(shellQuote(''), `''`);
  assert.equal(shellCommand(['scancel', '--name=a b']), `scancel '--name=a b'`);
});

test('every hostile value comes back from /bin/sh as exactly one word, unchanged, and runs nothing', () => {
  for (const v of HOSTILE) {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellCommand([v, 'end'])}`]);
    assert.deepEqual(out.toString('utf8').split('\0').slice(0, -1), [v, 'end'], JSON.stringify(v));
  }
  assert.equal(existsSync(marker), false);
});

test('a path under ~/ is expanded by the shell; the rest of it stays quoted', () => {
  assert.equal(shellPath('~/.nvm/versions/node/v20/bin/node'), '~/.nvm/versions/node/v20/bin/node');
  assert.equal(shellPath('~/my dir/node'), `~/'my dir/node'`);
  assert.equal(shellPath('/opt/my dir/node'), `'/opt/my dir/node'`);
  const home = '/home/someone';
  const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellPath('~/my dir/$(x)')}`], {
    env: { HOME: home },
  }).toString();
  assert.equal(out, `${home}/my dir/$(x)`);
});
