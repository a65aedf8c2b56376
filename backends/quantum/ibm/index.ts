/** The `ibm-quantum` backend: IBM Quantum Platform (Qiskit Runtime Sampler V2 jobs over REST). */
export {
  checkIbmQuantumConfig,
  DEFAULT_BATCH_WINDOW_MS,
  DEFAULT_IAM_URL,
  DEFAULT_IBM_URL,
  type IbmQuantumConfig,
} from './config.ts';
export { clientFor, describeIbm, runIbmBatch, runOnIbm, runSweepOnIbm } from './ibm-runner.ts';
export { runIbmEstimatorBatch } from './estimator-batch.ts';
export { IbmSessionKeeper, IBM_SESSION_ENV, leaveSession, submitInMode } from './execution-mode.ts';
export { checkIbmPrimitiveOptions, type IbmPrimitiveOptions } from './primitive-options.ts';
export { SessionFile } from './session-file.ts';
export { reserveIbmJob } from './job-cost.ts';
export { chooseDevice, checkQubits, LEAST_BUSY } from './device-choice.ts';
export { samplesToCounts } from './sampler-results.ts';
export { IBM_API_VERSION } from './runtime-wire.ts';
