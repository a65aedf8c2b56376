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
