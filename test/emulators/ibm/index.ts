/** The IBM Quantum emulator for tests (IAM + Qiskit Runtime REST on one loopback port). */
export {
  startIbmEmulator,
  type IbmEmulator,
  type IbmEmulatorOptions,
  type RecordedRequest,
  type EmulatedJob,
} from './ibm-emulator.ts';
export { defaultFakeDevices, configurationOf, type FakeDevice } from './fake-devices.ts';
export { isaViolation, NON_ISA_REASON_CODE } from './isa-check.ts';
