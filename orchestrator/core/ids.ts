/**
 * Ids are hex strings: a random per-process prefix and a counter. Unique across processes
 * without coordination, and cheap enough to mint a million per second.
 */
import { randomBytes } from 'node:crypto';

const prefix = randomBytes(5).toString('hex');
let counter = 0;

/** A fresh id, unique across processes (20 hex characters). */
export function newId(): string {
  counter += 1;
  return prefix + counter.toString(16).padStart(10, '0');
}
