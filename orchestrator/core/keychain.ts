/**
 * Secrets from the OS keychain (@napi-rs/keyring: macOS Keychain, Windows Credential Manager,
 * the Secret Service on Linux). Configs name secrets; values are read here, at the moment of use,
 * and never written anywhere else. `orrery secrets set NAME` stores them under the same service.
 */
import { BackendError } from './errors.ts';
import { SECRET_NAME } from './secret-ref.ts';
import { nameProblem } from './names.ts';

/** The keychain service Orrery keeps its secrets under. */
export const KEYCHAIN_SERVICE = 'orrery';

/**
 * Reads secret `name` for `backend`; `purpose` says what it is for in error messages
 * (e.g. "the IBM Quantum API key"). Every failure is a BackendError that says how to fix it.
 */
export async function readSecret(backend: string, name: string, purpose: string): Promise<string> {
  let Entry: typeof import('@napi-rs/keyring').Entry;
  try {
    ({ Entry } = await import('@napi-rs/keyring'));
  } catch (err) {
    throw new BackendError(
      backend,
      `cannot read secret ${name} (${purpose}): the keychain binding @napi-rs/keyring does not load (${(err as Error).message}); reinstall with npm ci`,
      false,
    );
  }
  let value: string | null | undefined;
  try {
    value = new Entry(KEYCHAIN_SERVICE, name).getPassword();
  } catch (err) {
    throw new BackendError(
      backend,
      `cannot read secret ${name} (${purpose}) from the OS keychain: ${(err as Error).message}. On Linux a Secret Service (gnome-keyring or KeePassXC) must be running and unlocked in this session.`,
      false,
    );
  }
  if (value === null || value === undefined)
    throw new BackendError(
      backend,
      `the OS keychain has no secret ${name} (${purpose}); store it with: orrery secrets set ${name}`,
      false,
    );
  return value;
}

/** Loads the keychain binding, or says how to fix a broken install. */
async function entryClass(): Promise<typeof import('@napi-rs/keyring').Entry> {
  try {
    return (await import('@napi-rs/keyring')).Entry;
  } catch (err) {
    throw new Error(
      `the keychain binding @napi-rs/keyring does not load (${(err as Error).message}); reinstall with npm ci`,
    );
  }
}

/** Secret names: what configs and `secret(name)` may refer to. */
export { SECRET_NAME };

/** Secret `name`, or undefined when the keychain has none; rejects when the keychain cannot be read (with how to fix it). */
export async function findSecret(name: string): Promise<string | undefined> {
  const Entry = await entryClass();
  try {
    return new Entry(KEYCHAIN_SERVICE, name).getPassword() ?? undefined;
  } catch (err) {
    throw new Error(
      `${(err as Error).message}. On Linux a Secret Service (gnome-keyring or KeePassXC) must be running and unlocked in this session.`,
    );
  }
}

/** What a secret name may be, for messages. */
export const SECRET_NAME_RULE =
  "1-128 letters, digits, '.', '_' or '-', other than __proto__, constructor and prototype";

/** True when `name` can name a secret. */
export function isSecretName(name: unknown): name is string {
  return typeof name === 'string' && SECRET_NAME.test(name) && nameProblem(name) === undefined;
}

/** Stores (or replaces) secret `name` in the OS keychain. */
export async function storeSecret(name: string, value: string): Promise<void> {
  if (!isSecretName(name)) throw new TypeError(`secret name ${JSON.stringify(name)} must be ${SECRET_NAME_RULE}`);
  if (value === '') throw new TypeError(`secret ${name}: the value is empty; nothing was stored`);
  const Entry = await entryClass();
  try {
    new Entry(KEYCHAIN_SERVICE, name).setPassword(value);
  } catch (err) {
    throw new Error(
      `cannot store secret ${name} in the OS keychain: ${(err as Error).message}. On Linux a Secret Service (gnome-keyring or KeePassXC) must be running and unlocked in this session.`,
    );
  }
}

/** Deletes secret `name`; resolves false when there was none. */
export async function deleteSecret(name: string): Promise<boolean> {
  const Entry = await entryClass();
  try {
    return new Entry(KEYCHAIN_SERVICE, name).deletePassword();
  } catch (err) {
    throw new Error(`cannot delete secret ${name} from the OS keychain: ${(err as Error).message}`);
  }
}

/** True when secret `name` exists (its value is not returned). */
export async function hasSecret(name: string): Promise<boolean> {
  const Entry = await entryClass();
  try {
    return new Entry(KEYCHAIN_SERVICE, name).getPassword() != null;
  } catch {
    return false;
  }
}
