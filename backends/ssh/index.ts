/** The ssh backend's entry: the factory the backend registry calls, and its types. */
import type { Backend } from '../types.ts';
import { validateSshConfig } from './config.ts';
import { SshBackend } from './ssh-backend.ts';

export { SshBackend } from './ssh-backend.ts';
export { validateSshConfig, type SshBackendConfig } from './config.ts';

/** Makes an ssh backend from a config object; throws TypeError naming the field that is wrong. */
export function createSshBackend(config: unknown): Backend {
  return new SshBackend(validateSshConfig(config));
}
