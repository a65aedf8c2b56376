/** The public API of Orrery, the package's main export (docs/api.md is its reference). */
export { init, shutdown, isInitialized, type InitOptions } from './init.ts';
export { remote } from './remote.ts';
export { log, type LogOptions } from './metrics-log.ts';
export { RemoteFunction } from './remote-function.ts';
export { ActorClass, getActor, kill, type ActorHandle } from './actor.ts';
export { put, get, wait, cancel } from './objects.ts';
export { placementGroup, removePlacementGroup, PlacementGroup } from './placement-group.ts';
export type { PlacementGroupOptions } from '../core/placement-group-options.ts';
export { command, CommandFunction, type CommandOptions, type CommandCall, type CommandResult } from './command.ts';
export { circuit, CircuitFunction, type CircuitOptions, type CircuitResult } from './circuit.ts';
export {
  estimator,
  EstimatorFunction,
  type EstimatorOptions,
  type EstimatorResult,
  type Observable,
} from './estimator.ts';
export { QasmError } from '../head/backend-registry.ts';
export {
  nodes,
  clusterResources,
  availableResources,
  state,
  getRuntimeContext,
  recordTaskInfo,
  reserveBudget,
  type ListOptions,
} from './introspection.ts';
export type { RuntimeContext } from './runtime.ts';
export type {
  TaskRow,
  ActorRow,
  ObjectRow,
  NodeRow,
  PlacementGroupRow,
  PlacementGroupBundleRow,
  TaskSummaryRow,
  BudgetRow,
  JobRow,
  JobStatus,
  MetricPoint,
  TaskState,
  ActorState,
  ObjectState,
  PlacementGroupState,
  NodeState,
  TaskType,
  ResourceAmounts,
  StateFilter,
} from '../protocol/state-rows.ts';
export { ObjectRef } from '../core/object-ref.ts';
export { secret, SecretRef } from '../core/secret-ref.ts';
export type { TaskOptions, ActorOptions } from '../core/options.ts';
export type { PlacementRule } from '../scheduler/placement-rules.ts';
export {
  OrreryError,
  TaskError,
  WorkerCrashedError,
  ActorDiedError,
  GetTimeoutError,
  TaskCancelledError,
  ObjectLostError,
  OwnerDiedError,
  TaskUnschedulableError,
  CommandFailedError,
  RuntimeEnvSetupError,
  GangPlacementError,
  BackendError,
  PlacementGroupRemovedError,
  SecretNotFoundError,
  SecretUnavailableError,
  InvalidNameError,
  ModuleBackendRefusedError,
  BackendShutdownError,
  UnsafeRuntimeDirError,
  BudgetExceededError,
} from '../core/errors.ts';
export { InvalidPlacementRuleError } from '../scheduler/placement-rules.ts';
export {
  DriverMessageTooLargeError,
  NoHeadRunningError,
  HeadUnreachableError,
  HeadAuthError,
  ClientOptionError,
  HeadConnectionLostError,
} from '../client/client-errors.ts';
export { HeadFileError } from '../client/head-file.ts';
