/** The slurm backend's factory, as the backend registry calls it. */
import type { Backend } from '../types.ts';
import { validateSlurmConfig } from './config.ts';
import { SlurmBackend } from './slurm-backend.ts';

/** Makes a slurm backend from a config (validated, errors name the field). */
export function createSlurmBackend(config: unknown): Backend {
  return new SlurmBackend(validateSlurmConfig(config));
}
