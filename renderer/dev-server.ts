/**
 * `npm run dev:dashboard [-- --port 5173]`: the dashboard's dev loop against a real head. esbuild
 * watches renderer/src (and what it imports) and rebuilds, unminified, into a private temp
 * folder; dev-proxy.ts serves that build on its own loopback port, passes the API, login and
 * events socket to the running head (found through head.json, as the CLI finds it), and every
 * open page reloads itself when a rebuild finishes. It prints a one-time login link for the
 * proxy (the head's own login; Enter prints another). Start a head first: `npm run orrery -- start`.
 */
import { context, type Plugin } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { rendererBuildOptions } from './build.ts';
import { startDevProxy } from './dev-proxy.ts';

/** What head.json says (orchestrator/client/head-file.ts writes it). */
interface HeadInfo {
  readonly url: string;
  readonly token: string;
  readonly pid: number;
}

function runningHead(): HeadInfo {
  const file = join(process.env.ORRERY_HOME ?? join(homedir(), '.orrery'), 'head.json');
  const none = `no head is running (no live head in ${file}); start one in another terminal with \`npm run orrery -- start\`, then run npm run dev:dashboard again`;
  if (!existsSync(file)) throw new Error(none);
  const info = JSON.parse(readFileSync(file, 'utf8')) as HeadInfo;
  try {
    process.kill(info.pid, 0);
  } catch {
    throw new Error(none);
  }
  return info;
}

/** A fresh one-time login URL of the head, pointed at the proxy. */
async function loginLink(head: HeadInfo, proxyOrigin: string): Promise<string> {
  const res = await fetch(`${head.url}/api/login-codes`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${head.token}` },
  });
  const body = (await res.json()) as { url?: string; error?: string };
  if (!res.ok || !body.url) throw new Error(`the head gave no login link: ${body.error ?? `HTTP ${res.status}`}`);
  const url = new URL(body.url);
  return `${proxyOrigin}${url.pathname}${url.search}`;
}

function portOption(argv: string[]): number {
  const i = argv.indexOf('--port');
  if (i < 0) return 5173;
  const text = argv[i + 1] ?? '';
  if (!/^\d+$/.test(text) || Number(text) > 65535)
    throw new Error(`--port must be an integer from 0 to 65535 (got ${text || 'nothing'})`);
  return Number(text);
}

async function main(): Promise<void> {
  const port = portOption(process.argv.slice(2));
  const head = runningHead();
  const out = mkdtempSync(join(tmpdir(), 'orrery-dashboard-dev-'));
  let reload = () => {};
  let started = 0;
  const timing: Plugin = {
    name: 'orrery-dev-reload',
    setup(b) {
      b.onStart(() => {
        started = performance.now();
      });
      b.onEnd((result) => {
        if (result.errors.length > 0) return;
        process.stdout.write(
          `dashboard: rebuilt in ${Math.round(performance.now() - started)} ms; reloading open pages\n`,
        );
        reload();
      });
    },
  };
  const ctx = await context(rendererBuildOptions(out, true, [timing]));
  await ctx.rebuild();
  const proxy = await startDevProxy({ head: head.url, out, port });
  reload = proxy.reload;
  await ctx.watch();
  process.stdout.write(
    `dashboard dev server: ${proxy.origin}/ (head ${head.url}, pid ${head.pid}); watching renderer/src\n` +
      `  log in: ${await loginLink(head, proxy.origin)}\n` +
      '          (one-time link, valid 2 minutes; press Enter for another; Ctrl-C stops)\n',
  );
  createInterface({ input: process.stdin }).on('line', () => {
    loginLink(head, proxy.origin).then(
      (url) => process.stdout.write(`  log in: ${url}\n`),
      (err: Error) => process.stderr.write(`dev:dashboard: ${err.message}\n`),
    );
  });
  const stop = async () => {
    await ctx.dispose();
    proxy.server.closeAllConnections();
    proxy.server.close();
    rmSync(out, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`dev:dashboard: ${err.message}\n`);
  process.exit(1);
});
