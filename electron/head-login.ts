/**
 * How the desktop window logs in to the head: the main process, which read the token from
 * head.json, asks the head for a one-time login URL (`POST /api/login-codes`) and loads it; the
 * head sets the window's session cookie and redirects to the dashboard. The page never sees the
 * token, and no preload needs to hand it over.
 */
import type { HeadFileInfo } from './head-process.ts';

/** The head did not give a login URL. */
export class HeadLoginError extends Error {
  override readonly name = 'HeadLoginError';
}

/** A fresh one-time login URL of `head`. */
export async function loginUrl(head: HeadFileInfo): Promise<string> {
  const res = await fetch(`${head.url}/api/login-codes`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${head.token}` },
  });
  const body = (await res.json().catch(() => ({}))) as { url?: unknown; error?: unknown };
  if (!res.ok || typeof body.url !== 'string') {
    throw new HeadLoginError(
      `the head at ${head.url} gave no login URL (HTTP ${res.status}${typeof body.error === 'string' ? `: ${body.error}` : ''}); is it an older Orrery? restart it with orrery start`,
    );
  }
  return body.url;
}
