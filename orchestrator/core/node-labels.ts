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

/*
 * Container runtimes as node labels, so that a command task with `runtimeEnv.container` is
 * placed only on nodes that can run it (and is unschedulable, with a message naming the label,
 * when no node can) instead of failing when it starts there. A node agent finds them on its PATH
 * (core/container-runtimes.ts); an elastic backend whose nodes do not exist yet (Slurm) asks its
 * login host. A backend config's `labels` may set them by hand, and win.
 */

export type ContainerRuntimeName = 'apptainer' | 'podman' | 'docker';

/** The runtimes, in the order one is picked when the task names none. */
export const CONTAINER_RUNTIME_ORDER: readonly ContainerRuntimeName[] = ['apptainer', 'podman', 'docker'];

/** `orrery.io/container.podman: 'yes'` on a node whose PATH has podman. */
export function containerRuntimeLabel(runtime: ContainerRuntimeName): string {
  return `orrery.io/container.${runtime}`;
}

/** The runtime a container task that names none would use on the node (the first found in CONTAINER_RUNTIME_ORDER). */
export const DEFAULT_CONTAINER_RUNTIME_LABEL = 'orrery.io/container-runtime';

/** The labels of a node that has these runtimes. */
export function containerLabels(found: readonly ContainerRuntimeName[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const r of found) labels[containerRuntimeLabel(r)] = 'yes';
  const first = CONTAINER_RUNTIME_ORDER.find((r) => found.includes(r));
  if (first) labels[DEFAULT_CONTAINER_RUNTIME_LABEL] = first;
  return labels;
}

/** The label selector of a command task in a container of `runtime` (or of any runtime). */
export function containerSelector(runtime: ContainerRuntimeName | undefined): Record<string, string> {
  return runtime
    ? { [containerRuntimeLabel(runtime)]: 'yes' }
    : { [DEFAULT_CONTAINER_RUNTIME_LABEL]: `in(${CONTAINER_RUNTIME_ORDER.join(',')})` };
}

/** What a missing container label means, for the unschedulable message (empty for other labels). */
export function containerLabelHint(key: string): string {
  if (key === DEFAULT_CONTAINER_RUNTIME_LABEL)
    return ` (no node has ${CONTAINER_RUNTIME_ORDER.join(', ')} on its PATH: install one there, or name the nodes that have one with this label in the backend's labels)`;
  const runtime = CONTAINER_RUNTIME_ORDER.find((r) => key === containerRuntimeLabel(r));
  return runtime
    ? ` (no node has ${runtime} on its PATH: install it there, pick another runtimeEnv.container.runtime, or name the nodes that have it with this label in the backend's labels)`
    : '';
}
