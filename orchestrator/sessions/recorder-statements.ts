/** The recorder's prepared statements, compiled once per session. Parameters are named (`@x`). */
import type Database from 'better-sqlite3';

/** Every write the recorder makes, prepared. */
export interface RecorderStatements {
  readonly insertFunction: Database.Statement;
  readonly insertTask: Database.Statement;
  readonly updateTask: Database.Statement;
  readonly insertTaskEvent: Database.Statement;
  readonly upsertActor: Database.Statement;
  readonly insertActorEvent: Database.Statement;
  readonly upsertObject: Database.Statement;
  readonly nodeJoin: Database.Statement;
  readonly nodeLeave: Database.Statement;
  readonly insertNodeEvent: Database.Statement;
  readonly upsertResult: Database.Statement;
  readonly insertLog: Database.Statement;
  readonly upsertTaskInfo: Database.Statement;
  readonly insertRemoteJob: Database.Statement;
  readonly upsertJob: Database.Statement;
  readonly insertMetric: Database.Statement;
  readonly insertUsage: Database.Statement;
}

/** Prepares the statements against a database at the current schema version. */
export function prepareRecorderStatements(db: Database.Database): RecorderStatements {
  return {
    insertFunction: db.prepare(`INSERT OR IGNORE INTO functions (hash, name, kind, source, first_seen)
      VALUES (@hash, @name, @kind, @source, @ts)`),
    insertTask: db.prepare(`INSERT OR IGNORE INTO tasks (task_id, name, kind, variant, function_hash, actor_id,
      method, args_preview, params_json, parent_task_id, options_json, state, submitted_at, job_id)
      VALUES (@taskId, @name, @kind, @variant, @functionHash, @actorId, @method, @argsPreview, @paramsJson,
      @parentTaskId, @optionsJson, @state, @ts, @jobId)`),
    // Optional fields keep their previous value; the error always follows the latest event.
    updateTask: db.prepare(`UPDATE tasks SET state = @state,
      node_id = COALESCE(@nodeId, node_id), backend = COALESCE(@backend, backend),
      rule_index = COALESCE(@ruleIndex, rule_index), attempt = COALESCE(@attempt, attempt),
      started_at = CASE WHEN @state = 'RUNNING' THEN @ts ELSE started_at END,
      ended_at = CASE WHEN @final = 1 THEN @ts ELSE NULL END,
      error_name = @errorName, error_message = @errorMessage, exec_ms = COALESCE(@execMs, exec_ms)
      WHERE task_id = @taskId`),
    insertTaskEvent: db.prepare(`INSERT INTO task_events (task_id, ts, state, node_id, backend, rule_index,
      attempt, error_name, error_message)
      VALUES (@taskId, @ts, @state, @nodeId, @backend, @ruleIndex, @attempt, @errorName, @errorMessage)`),
    upsertActor: db.prepare(`INSERT INTO actors (actor_id, class_name, name, state, node_id, created_at, updated_at)
      VALUES (@actorId, @className, @name, @state, @nodeId, @ts, @ts)
      ON CONFLICT(actor_id) DO UPDATE SET state = excluded.state,
      node_id = COALESCE(excluded.node_id, node_id), name = COALESCE(excluded.name, name),
      updated_at = excluded.updated_at`),
    insertActorEvent: db.prepare(`INSERT INTO actor_events (actor_id, ts, state, node_id, detail)
      VALUES (@actorId, @ts, @state, @nodeId, @detail)`),
    upsertObject: db.prepare(`INSERT INTO objects (object_id, size, owner_task_id, location, ts)
      VALUES (@objectId, @size, @ownerTaskId, @location, @ts)
      ON CONFLICT(object_id) DO UPDATE SET size = excluded.size,
      owner_task_id = COALESCE(excluded.owner_task_id, owner_task_id),
      location = COALESCE(excluded.location, location), ts = excluded.ts`),
    nodeJoin: db.prepare(`INSERT INTO nodes (node_id, backend, resources_json, labels_json, joined_at, left_at)
      VALUES (@nodeId, @backend, @resourcesJson, @labelsJson, @ts, NULL)
      ON CONFLICT(node_id) DO UPDATE SET backend = COALESCE(excluded.backend, backend),
      resources_json = COALESCE(excluded.resources_json, resources_json),
      labels_json = COALESCE(excluded.labels_json, labels_json), joined_at = excluded.joined_at, left_at = NULL`),
    nodeLeave:
      db.prepare(`INSERT INTO nodes (node_id, backend, joined_at, left_at) VALUES (@nodeId, @backend, NULL, @ts)
      ON CONFLICT(node_id) DO UPDATE SET left_at = excluded.left_at`),
    insertNodeEvent: db.prepare(`INSERT INTO node_events (node_id, ts, event, detail)
      VALUES (@nodeId, @ts, @event, @detail)`),
    upsertResult: db.prepare(`INSERT INTO results (task_id, content_type, size, inline, file, ts)
      VALUES (@taskId, @contentType, @size, @inline, @file, @ts)
      ON CONFLICT(task_id) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
      inline = excluded.inline, file = excluded.file, ts = excluded.ts`),
    insertLog: db.prepare(`INSERT INTO logs (task_id, node_id, stream, ts, text, attempt)
      VALUES (@taskId, @nodeId, @stream, @ts, @text, @attempt)`),
    upsertTaskInfo: db.prepare(`INSERT INTO task_info (task_id, key, value, ts) VALUES (@taskId, @key, @value, @ts)
      ON CONFLICT(task_id, key) DO UPDATE SET value = excluded.value, ts = excluded.ts`),
    insertRemoteJob: db.prepare(`INSERT OR IGNORE INTO remote_jobs (task_id, backend, remote_job_id, ts)
      VALUES (@taskId, @backend, @remoteJobId, @ts)`),
    upsertJob:
      db.prepare(`INSERT INTO jobs (job_id, script, pid, started_at, ended_at, status, exit_code, error, output)
      VALUES (@jobId, @script, @pid, @startedAt, @endedAt, @status, @exitCode, @error, @output)
      ON CONFLICT(job_id) DO UPDATE SET script = excluded.script, pid = excluded.pid, ended_at = excluded.ended_at,
      status = excluded.status, exit_code = excluded.exit_code, error = excluded.error, output = excluded.output`),
    insertMetric: db.prepare(
      `INSERT INTO metrics (job_id, step, key, value, ts) VALUES (@jobId, @step, @key, @value, @ts)`,
    ),
    insertUsage: db.prepare(`INSERT INTO usage (node_id, ts, cpu, mem_used, mem_total, gpus, gpu_util, gpu_mem_used,
      gpu_mem_total, qpu_used, qpu_total, queued, queue_position)
      VALUES (@nodeId, @t, @cpu, @memUsedBytes, @memTotalBytes, @gpus, @gpuUtil, @gpuMemUsedMb, @gpuMemTotalMb,
      @qpuUsed, @qpuTotal, @queued, @queuePosition)`),
  };
}
