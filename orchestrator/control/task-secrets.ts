/**
 * The values of the secrets tasks refer to with `secret(name)`. They are read from the head's
 * secret source (the OS keychain) once per task, before it is first queued for a node, held in
 * memory while it may still run (retries reuse them), put into its run messages only, and
 * dropped when it ends. Nothing here is ever recorded, logged or listed.
 */
import { SecretNotFoundError, SecretUnavailableError } from '../core/errors.ts';
import { SECRET_NAME } from '../core/secret-ref.ts';
import type { TaskSubmission } from '../protocol/messages.ts';

/** Where the head reads secrets (the OS keychain; a fake in tests). */
export interface SecretSource {
  /** The value of secret `name`, or undefined when there is none. Rejects when the store cannot be read. */
  read(name: string): Promise<string | undefined>;
}

/** Secret values of the head's queued and running tasks. */
export class TaskSecrets {
  private readonly held = new Map<string, Readonly<Record<string, string>>>();

  constructor(private readonly source: SecretSource) {}

  /** True for a task that refers to secrets whose values are not held yet (only plain tasks may). */
  needsFetch(spec: TaskSubmission): boolean {
    return (
      spec.kind === 'task' && Array.isArray(spec.secrets) && spec.secrets.length > 0 && !this.held.has(spec.taskId)
    );
  }

  /** Reads every secret the task names. Rejects with SecretNotFoundError or SecretUnavailableError naming the first that fails. */
  async fetch(spec: TaskSubmission): Promise<Readonly<Record<string, string>>> {
    const values = new Map<string, string>();
    for (const name of spec.secrets ?? []) {
      if (typeof name !== 'string' || !SECRET_NAME.test(name))
        throw new SecretNotFoundError(spec.name, JSON.stringify(name));
      let value: string | undefined;
      try {
        value = await this.source.read(name);
      } catch (err) {
        throw new SecretUnavailableError(spec.name, name, (err as Error).message);
      }
      if (value === undefined) throw new SecretNotFoundError(spec.name, name);
      values.set(name, value);
    }
    return Object.fromEntries(values);
  }

  /** Keeps a task's values until `forget`. */
  hold(taskId: string, values: Readonly<Record<string, string>>): void {
    this.held.set(taskId, values);
  }

  /** The values to send with a task's run (undefined when it names no secret). */
  of(taskId: string): Readonly<Record<string, string>> | undefined {
    return this.held.get(taskId);
  }

  /** The task ended: its values go. */
  forget(taskId: string): void {
    this.held.delete(taskId);
  }
}
