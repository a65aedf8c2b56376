/**
 * Electron main process, kept thin: starts (or finds) the head in its own process, opens one
 * window on the head's dashboard with Electron's security defaults on (context isolation,
 * sandbox, no Node in the page, a CSP), answers the preload's one IPC call only for the
 * dashboard's own origin, and stops the head it started when the app quits.
 */
import { app, BrowserWindow, session } from 'electron';
import { handle } from './main-ipc.ts';
import { HEAD_INFO } from './ipc-channels.ts';
import { startHead, type HeadFileInfo } from './head-process.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The policy applied to every response the window loads (the head sends the same one). */
const CSP = "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";

let head: HeadFileInfo | undefined;

async function main(): Promise<void> {
  await app.whenReady();
  const started = await startHead();
  head = started.info;
  const origin = new URL(head.url).origin;
  app.on('before-quit', () => started.child?.kill('SIGTERM'));
  app.on('window-all-closed', () => app.quit());
  handle(HEAD_INFO, () => origin, () => ({ headUrl: head!.url, token: head!.token }));
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Orrery',
    show: false,
    webPreferences: { preload: join(dirname(fileURLToPath(import.meta.url)), 'preload.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  // The window shows the dashboard and nothing else: links elsewhere neither navigate nor open windows.
  win.webContents.on('will-navigate', (event, url) => {
    if (new URL(url).origin !== origin) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => win.show());
  await win.loadURL(`${head.url}/?token=${encodeURIComponent(head.token)}`);
}

main().catch((err: Error) => {
  process.stderr.write(`orrery app: ${err.message}\n`);
  app.quit();
});
