/**
 * The desktop window's guards (electron/window-guards.ts), which run under plain Node: a web
 * contents stays on the head's origin (navigations and redirects elsewhere are cancelled), opens
 * no windows and attaches no webviews; the session denies every permission. Electron cannot be
 * installed here, so these drive the guards with small recording fakes of WebContents and
 * Session; test/e2e/electron.test.ts checks main.mjs wires them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  denyPermissions,
  guardContents,
  navigationAllowed,
  type CancellableEvent,
  type GuardedContents,
  type GuardedSession,
} from '../../electron/window-guards.ts';

const ORIGIN = 'http://127.0.0.1:8265';

/** A WebContents that records the listeners and the window-open handler the guards install. */
class FakeContents implements GuardedContents {
  readonly listeners = new Map<string, (event: CancellableEvent, url: string) => void>();
  openHandler: ((details: { url: string }) => { action: 'deny' | 'allow' }) | undefined;
  on(event: string, listener: (event: CancellableEvent, url: string) => void): void {
    this.listeners.set(event, listener);
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void {
    this.openHandler = handler;
  }
  /** Fires `event` for `url`; true when a guard cancelled it. */
  fire(event: string, url = ''): boolean {
    let cancelled = false;
    const listener = this.listeners.get(event);
    assert.ok(listener, `no ${event} listener`);
    listener({ preventDefault: () => (cancelled = true) }, url);
    return cancelled;
  }
}

test("navigationAllowed accepts the head's own pages and refuses other origins and junk", () => {
  assert.equal(navigationAllowed('http://127.0.0.1:8265/#graph', ORIGIN), true);
  assert.equal(navigationAllowed('http://127.0.0.1:8265/login?code=x', ORIGIN), true);
  assert.equal(navigationAllowed('http://127.0.0.1:8266/', ORIGIN), false);
  assert.equal(navigationAllowed('http://localhost:8265/', ORIGIN), false);
  assert.equal(navigationAllowed('https://127.0.0.1:8265/', ORIGIN), false);
  assert.equal(navigationAllowed('http://evil.example/', ORIGIN), false);
  assert.equal(navigationAllowed('file:///etc/passwd', ORIGIN), false);
  assert.equal(navigationAllowed('not a url', ORIGIN), false);
  assert.equal(navigationAllowed(undefined, ORIGIN), false);
});

test("a guarded web contents cancels navigations and redirects off the head's origin, denies new windows and webviews", () => {
  const contents = new FakeContents();
  guardContents(contents, ORIGIN);
  for (const event of ['will-navigate', 'will-redirect']) {
    assert.equal(contents.fire(event, `${ORIGIN}/#tables`), false, `${event} within the origin`);
    assert.equal(contents.fire(event, 'http://evil.example/'), true, `${event} to another site`);
    assert.equal(contents.fire(event, 'http://127.0.0.1:9999/'), true, `${event} to another port`);
    assert.equal(contents.fire(event, 'file:///etc/passwd'), true, `${event} to a file`);
  }
  assert.equal(contents.fire('will-attach-webview'), true);
  assert.deepEqual(contents.openHandler?.({ url: `${ORIGIN}/` }), { action: 'deny' });
  assert.deepEqual(contents.openHandler?.({ url: 'http://evil.example/' }), { action: 'deny' });
});

test('the guarded session grants no permission and answers every check with no', () => {
  let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
  let check: ((contents: unknown, permission: string) => boolean) | undefined;
  const session: GuardedSession = {
    setPermissionRequestHandler: (h) => void (request = h),
    setPermissionCheckHandler: (h) => void (check = h),
  };
  denyPermissions(session);
  for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
    let granted: boolean | undefined;
    request!(null, permission, (g) => (granted = g));
    assert.equal(granted, false, permission);
    assert.equal(check!(null, permission), false, permission);
  }
});
