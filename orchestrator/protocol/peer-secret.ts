/**
 * Secrets that authenticate a socket's peer: the head's worker socket (a worker shows the head's
 * link secret in its hello) and a durable agent's socket (a head shows the agent's secret before
 * anything else). They travel only through the environment or a private file, never a command
 * line, and are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh secret: 256 random bits as 64 hex digits. */
export function newPeerSecret(): string {
  return randomBytes(32).toString('hex');
}

/** True when `given` is exactly `expected` (compared in constant time; anything but a string is false). */
export function secretMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || expected === '') return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
