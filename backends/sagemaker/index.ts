/** The sagemaker backend kind, made from its config. */
import type { Backend } from '../types.ts';
import { validateSageMakerConfig } from './config.ts';
import { SageMakerBackend } from './sagemaker-backend.ts';

export { validateSageMakerConfig, type SageMakerConfig, type SpotConfig } from './config.ts';
export { COMMAND_RUNNER_ENV, INSTANCE_TYPE_LABEL, SageMakerBackend } from './sagemaker-backend.ts';

/** A `sagemaker` backend: command tasks with an image become training jobs, at most `maxConcurrentJobs` at once. */
export function createSageMakerBackend(config: Record<string, unknown>): Backend {
  return new SageMakerBackend(validateSageMakerConfig(config));
}
