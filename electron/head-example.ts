/**
 * Runs a bundled example against the head (`POST /api/examples/run`, as `orrery dashboard
 * --example` does), so the window has something to show. The main process holds the token; the
 * page never does.
 */
import type { HeadFileInfo } from './head-process.ts';

/** The head refused to run the example. */
export class HeadExampleError extends Error {
  override readonly name = 'HeadExampleError';
}

/** Starts example `name` on `head`; resolves with the driver's pid. */
export async function runExample(head: HeadFileInfo, name: string): Promise<number> {
  const res = await fetch(`${head.url}/api/examples/run`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${head.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = (await res.json().catch(() => ({}))) as { pid?: unknown; error?: unknown };
  if (!res.ok || typeof body.pid !== 'number')
    throw new HeadExampleError(
      `the head did not start example ${name} (HTTP ${res.status}${typeof body.error === 'string' ? `: ${body.error}` : ''})`,
    );
  return body.pid;
}
