/** Node labels Orrery itself sets and the scheduler reads. */

/**
 * A node with this label takes only work that names its backend (the `backend` option or a
 * placement rule's `require`): the virtual nodes of job-style backends such as SageMaker, whose
 * CPUs and GPUs are rented per task and must not attract ordinary function tasks.
 */
export const EXCLUSIVE_NODE_LABEL = 'orrery.io/exclusive';

/** True when work constrained to `backend` (or to none) may use a node of `nodeBackend` with these labels. */
export function exclusiveAllows(
  labels: Readonly<Record<string, string>>,
  nodeBackend: string,
  backend: string | undefined,
): boolean {
  return labels[EXCLUSIVE_NODE_LABEL] === undefined || backend === nodeBackend;
}

/**
 * The address other nodes reach this node at (a host name or IP). The ssh backend sets it to
 * the host it connects to; a backend config's `labels` may override it (e.g. an InfiniBand
 * address). A `command({ nodes })` gang gives rank 0's as MASTER_ADDR (or, without the label,
 * rank 0's host name as `os.hostname()` reports it).
 */
export const NODE_ADDRESS_LABEL = 'orrery.io/address';
