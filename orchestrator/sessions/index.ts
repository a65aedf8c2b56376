/**
 * Experiment sessions: an SQLite database (WAL) per session with config, function code, task
 * and actor events, results, logs and cost, plus a results directory for large values.
 * `SessionStore` is the entry point; the head writes through a `SessionRecorder`, viewers read
 * through a `SessionReader`, and `compareSessions` diffs two runs.
 */
export {
  SessionStore,
  EXPORT_FORMAT,
  type SessionListing,
  type SessionDetails,
  type ExportResult,
  type SkippedResultFile,
} from './session-store.ts';
export { SessionRecorder, type RecorderOptions, type RecorderStats } from './session-recorder.ts';
export { SessionReader, type TaskQuery } from './session-reader.ts';
export {
  compareSessions,
  formatComparison,
  type CompareOptions,
  type MatchStatus,
  type ResultVerdict,
  type SessionComparison,
  type SideTotals,
  type TaskComparison,
} from './session-compare.ts';
export {
  validateLabelsPatch,
  SessionLabelsError,
  TAG,
  MAX_TAGS,
  MAX_TITLE_CHARS,
  MAX_NOTES_CHARS,
  type SessionLabelsPatch,
} from './session-labels.ts';
export { compareManySessions, formatMultiComparison, MAX_COMPARED_SESSIONS } from './multi-compare.ts';
export { previewArgs, ARGS_PREVIEW_CHARS } from './args-preview.ts';
export { stripSecretKeys, isSecretValueKey } from './secret-keys.ts';
export { defaultSessionsDir, validateSessionName, SESSION_NAME } from './session-paths.ts';
export { SCHEMA_VERSION, APPLICATION_ID } from './schema.ts';
export * from './session-errors.ts';
export * from './session-types.ts';
export { sumCosts, thinUsage, type SessionNodeLogLine } from './session-monitoring.ts';
