/** The main process's IPC sender check: only frames on the dashboard's own origin get answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('sameOrigin accepts the head\'s own pages and refuses other origins and junk', async () => {
  // main-ipc.ts imports `electron` only for ipcMain; load the pure check from the bundle-free source.
  const { sameOrigin } = await import('../../electron/origin-check.ts');
  const origin = 'http://127.0.0.1:8265';
  assert.equal(sameOrigin('http://127.0.0.1:8265/?token=x#graph', origin), true);
  assert.equal(sameOrigin('http://127.0.0.1:8266/', origin), false);
  assert.equal(sameOrigin('http://localhost:8265/', origin), false);
  assert.equal(sameOrigin('https://127.0.0.1:8265/', origin), false);
  assert.equal(sameOrigin('file:///etc/passwd', origin), false);
  assert.equal(sameOrigin('not a url', origin), false);
  assert.equal(sameOrigin(undefined, origin), false);
});
