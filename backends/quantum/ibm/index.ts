/** The `ibm-quantum` backend: IBM Quantum Platform (Qiskit Runtime Sampler V2 jobs over REST). */
export {
  checkIbmQuantumConfig,
  DEFAULT_BATCH_WINDOW_MS,
  DEFAULT_IAM_URL,
  DEFAULT_IBM_URL,
  type IbmQuantumConfig,
} from './config.ts';
export { describeIbm, runIbmBatch, runOnIbm } from './ibm-runner.ts';
export { chooseDevice, checkQubits, LEAST_BUSY } from './device-choice.ts';
export { samplesToCounts } from './sampler-results.ts';
export { IBM_API_VERSION } from './runtime-wire.ts';
