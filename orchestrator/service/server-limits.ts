/**
 * The limits of a head service's HTTP server: how many sockets it holds (from the open-file
 * limit), how long an unauthenticated socket may idle, and Node's header, request and
 * keep-alive timeouts. Together with connection-guard.ts they keep a flood of idle or slow
 * connections from using up the head's file descriptors or its patience.
 */
import type { Server } from 'node:http';
import type { ConnectionLimits } from './connection-guard.ts';
import { openFileLimit } from './open-file-limit.ts';

/** Most sockets a head holds, whatever its file limit. */
const MAX_CONNECTIONS_CAP = 4096;
/** Fewest sockets a head holds, even under a tiny file limit. */
const MAX_CONNECTIONS_FLOOR = 32;
/** An unauthenticated connection idle this long is closed. */
export const UNTRUSTED_IDLE_MS = 10_000;
/** A client must send its request headers within this time. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** ... and its whole request (a body of at most 1 MiB) within this time. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this time (Node's default). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node checks the header and request timeouts (its default is 30 s). */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/**
 * The connection limits for this process: half its open-file limit (the other half stays for
 * workers' links, agents' pipes, session files and the like), within 32..4096, unless given.
 */
export function connectionLimits(maxConnections?: number): ConnectionLimits {
  if (maxConnections !== undefined && (!Number.isInteger(maxConnections) || maxConnections < 1)) {
    throw new RangeError(`maxConnections must be a positive integer (got ${maxConnections})`);
  }
  const fromFiles = Math.floor(openFileLimit() / 2);
  return {
    maxConnections: maxConnections ?? Math.max(MAX_CONNECTIONS_FLOOR, Math.min(MAX_CONNECTIONS_CAP, fromFiles)),
    untrustedIdleMs: UNTRUSTED_IDLE_MS,
  };
}

/** Sets the server's header, request and keep-alive timeouts. */
export function applyServerTimeouts(server: Server): void {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
}
