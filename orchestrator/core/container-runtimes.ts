/**
 * Which container runtimes this machine has on its PATH (for the node labels of
 * core/node-labels.ts: a node agent's own, and the shapes of an elastic local backend).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { CONTAINER_RUNTIME_ORDER, type ContainerRuntimeName } from './node-labels.ts';

/** The runtimes that are executables in a directory of `pathVar` (this process's PATH by default). */
export function containerRuntimesOnPath(pathVar = process.env.PATH ?? ''): ContainerRuntimeName[] {
  const dirs = pathVar.split(delimiter).filter((d) => isAbsolute(d));
  return CONTAINER_RUNTIME_ORDER.filter((r) => dirs.some((d) => isExecutable(join(d, r))));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
