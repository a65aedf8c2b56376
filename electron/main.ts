/**
 * Electron main process, kept thin: starts (or finds) the head in its own process, opens one
 * window on the head's dashboard with Electron's security defaults on (context isolation,
 * sandbox, no Node in the page, a CSP, no preload), logs it in with a one-time login URL
 * (head-login.ts), keeps every web contents on the head's origin and denies every permission
 * (window-guards.ts), and stops the head it started when the app quits. `orrery app` passes
 * `--port N` (a new head's port) and `--example NAME` (run once the head is up; app-args.ts).
 */
import { app, BrowserWindow, session } from 'electron';
import { parseAppArgs } from './app-args.ts';
import { runExample } from './head-example.ts';
import { loginUrl } from './head-login.ts';
import { startHead } from './head-process.ts';
import { denyPermissions, guardContents } from './window-guards.ts';

/** The policy applied to every response the window loads (the head sends the same one). */
const CSP =
  "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";

async function main(): Promise<void> {
  const args = parseAppArgs(process.argv.slice(1));
  await app.whenReady();
  const started = await startHead({ port: args.port });
  const head = started.info;
  const origin = new URL(head.url).origin;
  app.on('before-quit', () => started.child?.kill('SIGTERM'));
  app.on('window-all-closed', () => app.quit());
  app.on('web-contents-created', (_event, contents) => guardContents(contents, origin));
  denyPermissions(session.defaultSession);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Orrery',
    show: false,
    webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  win.once('ready-to-show', () => win.show());
  await win.loadURL(await loginUrl(head));
  if (args.example)
    process.stdout.write(`orrery app: example ${args.example} (pid ${await runExample(head, args.example)})\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`orrery app: ${err.message}\n`);
  app.quit();
});
