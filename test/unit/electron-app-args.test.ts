/** The options `orrery app` hands the Electron main process (electron/app-args.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppArgsError, parseAppArgs } from '../../electron/app-args.ts';

test('parseAppArgs reads --example and --port among Electron and Chromium switches', () => {
  assert.deepEqual(parseAppArgs(['/pkg/electron/dist/main.mjs']), { port: 0 });
  assert.deepEqual(
    parseAppArgs(['--no-sandbox', '/pkg/electron/dist/main.mjs', '--example', 'vqe-h2', '--port', '8300']),
    { port: 8300, example: 'vqe-h2' },
  );
  assert.deepEqual(parseAppArgs(['main.mjs', '--port=0', '--example=parameter-sweep', '--enable-logging']), {
    port: 0,
    example: 'parameter-sweep',
  });
});

test('parseAppArgs refuses a bad port, a missing value and an example name that is no bundled name', () => {
  for (const [argv, field] of [
    [['--port', '70000'], '--port'],
    [['--port', '-1'], '--port'],
    [['--port', 'x'], '--port'],
    [['--port'], '--port'],
    [['--example'], '--example'],
    [['--example', '../../etc/passwd'], '--example'],
    [['--example', 'VQE H2'], '--example'],
  ] as const) {
    assert.throws(
      () => parseAppArgs(argv),
      (err: Error) => err instanceof AppArgsError && err.message.startsWith(field),
      argv.join(' '),
    );
  }
});
