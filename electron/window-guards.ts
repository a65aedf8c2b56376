/**
 * What keeps the desktop window on the dashboard, apart from Electron so it can be tested under
 * plain Node: every web contents the app creates (the window, and anything a page might open)
 * may navigate or be redirected only within the head's origin, opens no new windows and
 * attaches no webviews; the session grants no permission (camera, notifications, ...) to
 * anyone, and answers every permission check with no.
 */
/** A navigation event Electron lets a handler cancel. */
export interface CancellableEvent {
  preventDefault(): void;
}

/** The part of Electron's WebContents the guards use. */
export interface GuardedContents {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: CancellableEvent, url: string) => void): void;
  on(event: 'will-attach-webview', listener: (event: CancellableEvent) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
}

/** The part of Electron's Session the guards use. */
export interface GuardedSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
}

/** True when the window may go to `url`: a page of the head's own origin (same scheme, host and port), nothing else. */
export function navigationAllowed(url: string | undefined, origin: string): boolean {
  if (!url) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** Keeps `contents` on `origin`: navigations and redirects elsewhere are cancelled, new windows and webviews refused. */
export function guardContents(contents: GuardedContents, origin: string): void {
  const stayHome = (event: CancellableEvent, url: string) => {
    if (!navigationAllowed(url, origin)) event.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Denies every permission request and check in `session`. */
export function denyPermissions(session: GuardedSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
