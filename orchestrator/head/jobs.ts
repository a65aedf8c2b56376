/** Drivers' jobs: each connected driver (or embedded `init()`) is one, with the namespace its named actors live in. */
import { newId } from '../core/ids.ts';

/** The jobs of a head. */
export class Jobs {
  private readonly namespaces = new Map<string, string>();

  /** Starts a job; without a namespace its named actors are private to it. */
  start(namespace?: string): string {
    const jobId = newId();
    this.namespaces.set(jobId, namespace ?? anonymous(jobId));
    return jobId;
  }

  /** The namespace of a job (an unknown job's is its own private one). */
  namespaceOf(jobId: string): string {
    return this.namespaces.get(jobId) ?? anonymous(jobId);
  }
}

function anonymous(jobId: string): string {
  return `anonymous-${jobId}`;
}
