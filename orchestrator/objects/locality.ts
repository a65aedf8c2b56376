/**
 * Data locality (Ray's locality-aware leasing): a task whose large arguments live on one node
 * prefers that node, so their bytes need not move. A pure decision; the head feeds it where
 * each argument lives and applies it as soft node affinity.
 */
import { INLINE_VALUE_MAX } from '../protocol/messages.ts';

/** Where one argument's value lives (undefined: inline, or held by the head). */
export type ArgLocation = { readonly nodeId: string; readonly sizeBytes: number } | undefined;

/**
 * The live node holding the most argument bytes, when those bytes are at least `minBytes`
 * (small arguments are cheaper to move than to wait for a node); ties go to the smaller node id
 * so the choice is stable.
 */
export function preferredNode(
  locations: readonly ArgLocation[],
  isAlive: (nodeId: string) => boolean,
  minBytes = INLINE_VALUE_MAX,
): string | undefined {
  const bytes = new Map<string, number>();
  for (const l of locations) if (l && isAlive(l.nodeId)) bytes.set(l.nodeId, (bytes.get(l.nodeId) ?? 0) + l.sizeBytes);
  let best: string | undefined;
  let most = 0;
  for (const [nodeId, b] of bytes) {
    if (b > most || (b === most && best !== undefined && nodeId < best)) {
      best = nodeId;
      most = b;
    }
  }
  return most >= minBytes ? best : undefined;
}
