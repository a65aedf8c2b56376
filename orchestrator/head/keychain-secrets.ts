/** The head's default secret source: the OS keychain, under the service `orrery secrets set` writes to. */
import { findSecret } from '../core/keychain.ts';
import type { SecretSource } from '../control/task-secrets.ts';

/** Reads task secrets from the OS keychain at the moment a task needs them. */
export const keychainSecrets: SecretSource = { read: (name) => findSecret(name) };
