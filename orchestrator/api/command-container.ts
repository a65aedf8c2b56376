/**
 * The container side of a command task (`runtimeEnv.container`), run by the command runner on
 * the worker's node (command-runner.ts imports it as `orrery-compute/internal/command-container`): find
 * the runtime on the node's PATH, make the image present once per host (pull a name, load an
 * archive tagged by its content hash), build the `run` argv, and remove the container on cancel.
 *
 * Nothing here goes through a shell: the argv is handed to `spawn` word by word. Environment
 * values never appear on it: podman and docker get `--env NAME` and read the value from their
 * own environment (the runner's), Apptainer passes the host environment through by default.
 * Node-level runtime settings (podman's OCI runtime, default ulimits) belong in the runtime's
 * own config (`containers.conf`), not here.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { RuntimeEnvSetupError } from '../core/errors.ts';
import { acquireLock } from '../core/file-lock.ts';
import { CONTAINER_RUNTIME_ORDER, type ContainerRuntimeName } from '../core/node-labels.ts';
import type { ContainerEnv } from '../core/runtime-env.ts';

export { CONTAINER_RUNTIME_ORDER, type ContainerRuntimeName } from '../core/node-labels.ts';

/** What one `run` needs; every field is already resolved on the node. */
export interface ContainerRunPlan {
  readonly runtime: ContainerRuntimeName;
  /** What the runtime runs: a tag or name (podman, docker), a `.sif` path or `docker://` URI (Apptainer). */
  readonly image: string;
  /** The container's unique name (podman, docker), so that cancel can remove it. */
  readonly name: string;
  /** The task's private working directory, mounted at the same path and used as the cwd. */
  readonly workDir: string;
  /** Environment variable names passed in; values come from the runtime's own environment. */
  readonly envNames: readonly string[];
  /** The lease's GPU ids on this node. */
  readonly gpuIds: readonly string[];
  /** The task's `runtimeEnv.container.options`, placed before the image. */
  readonly options: readonly string[];
  readonly argv: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The words after the runtime's executable: `run ... <image> <argv>` (Apptainer: `exec`). */
export function containerRunArgv(p: ContainerRunPlan): string[] {
  for (const n of p.envNames)
    if (!ENV_NAME.test(n))
      throw new TypeError(`command env name ${JSON.stringify(n)} is not a valid environment variable name`);
  if (p.image.startsWith('-'))
    throw new TypeError(
      `container image ${JSON.stringify(p.image)} starts with '-': put runtime flags in runtimeEnv.container.options`,
    );
  // The mount syntax splits on ':' (and Apptainer's also on ','): such a path would mount elsewhere.
  if (/[:,]/.test(p.workDir))
    throw new TypeError(`the working directory ${p.workDir} holds ':' or ',', which container mounts cannot express`);
  if (p.runtime === 'apptainer') {
    // The host environment (CUDA_VISIBLE_DEVICES among it) passes through unless options say --cleanenv.
    return [
      'exec',
      '--bind',
      p.workDir,
      '--pwd',
      p.workDir,
      ...(p.gpuIds.length > 0 ? ['--nv'] : []),
      ...p.options,
      p.image,
      ...p.argv,
    ];
  }
  const words = ['run', '--rm', '--name', p.name];
  // Host networking, as Apptainer has it: multi-node jobs reach MASTER_ADDR, and rootless podman
  // needs no /dev/net/tun. `--network` in the options overrides it.
  if (!p.options.some((o) => /^--net(work)?(=|$)/.test(o))) words.push('--network', 'host');
  words.push('--volume', `${p.workDir}:${p.workDir}`, '--workdir', p.workDir);
  for (const n of p.envNames) words.push('--env', n);
  if (p.gpuIds.length > 0) {
    if (p.runtime === 'podman') for (const id of p.gpuIds) words.push('--device', `nvidia.com/gpu=${id}`);
    // docker reads --gpus as CSV: a list of ids must be quoted inside the value.
    else words.push('--gpus', p.gpuIds.length === 1 ? `device=${p.gpuIds[0]}` : `"device=${p.gpuIds.join(',')}"`);
  }
  return [...words, ...p.options, p.image, ...p.argv];
}

/** Where the error should send the reader: the node, by host name and Orrery node id. */
export interface NodeWhere {
  readonly nodeId: string;
  readonly backend: string;
}

function nodeName(where: NodeWhere): string {
  return `node ${hostname()} (${where.nodeId}, backend ${where.backend})`;
}

const INSTALL: Record<ContainerRuntimeName, string> = {
  apptainer: 'install Apptainer (https://apptainer.org/docs/admin/main/installation.html)',
  podman: 'install Podman (Debian/Ubuntu: apt-get install podman)',
  docker: 'install Docker (https://docs.docker.com/engine/install/) and add your user to its group',
};

/** The runtime's executable on PATH: the given one, else the first of CONTAINER_RUNTIME_ORDER. */
export async function findContainerRuntime(
  given: ContainerRuntimeName | undefined,
  where: NodeWhere,
  pathVar = process.env.PATH ?? '',
): Promise<{ runtime: ContainerRuntimeName; exe: string }> {
  const dirs = pathVar.split(delimiter).filter((d) => isAbsolute(d));
  for (const runtime of given ? [given] : CONTAINER_RUNTIME_ORDER) {
    for (const d of dirs) {
      const exe = join(d, runtime);
      if (
        await access(exe, constants.X_OK).then(
          () => true,
          () => false,
        )
      )
        return { runtime, exe };
    }
  }
  const what = given
    ? `has no ${given} on its PATH (${pathVar}); ${INSTALL[given]} there, or pick another runtime in runtimeEnv.container.runtime`
    : `has none of ${CONTAINER_RUNTIME_ORDER.join(', ')} on its PATH (${pathVar}); ${INSTALL.podman} or ${INSTALL.apptainer} there`;
  throw new RuntimeEnvSetupError(nodeName(where), 'container.runtime', `${nodeName(where)} ${what}`);
}

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs the runtime once (no shell) and collects its output. */
export function runRuntime(exe: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err = (err + t).slice(-8192)));
    child.once('error', (e) => resolve({ code: 127, out, err: `${err}${e.message}` }));
    child.once('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** True when the image is a file on this node (an archive or a `.sif`), not a registry name. */
async function isFile(image: string): Promise<boolean> {
  if (!isAbsolute(image) && !image.startsWith('./') && !image.startsWith('../')) return false;
  return stat(image).then(
    (s) => s.isFile(),
    () => false,
  );
}

const archiveHashes = new Map<string, string>();

/** The SHA-256 of a file, remembered per path, size and mtime within this worker. */
async function fileHash(file: string): Promise<string> {
  const s = await stat(file);
  const key = `${file}\0${s.size}\0${s.mtimeMs}`;
  const known = archiveHashes.get(key);
  if (known) return known;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  const hex = h.digest('hex');
  archiveHashes.set(key, hex);
  return hex;
}

/**
 * Runs `fn` while holding this host's lock for `key` (core/file-lock.ts), so that tasks starting
 * together pull or load an image once: the others wait, then find it. The lock lives in the
 * private runtime root (`~/.orrery/run`, beside the agents' folders) and is named by host, because
 * a cluster's home may be shared by nodes whose image stores are not. Without a runtime root it
 * runs unlocked.
 */
export async function withHostLock<T>(
  key: string,
  fn: () => Promise<T>,
  runtimeDir = process.env.ORRERY_RUNTIME_DIR,
): Promise<T> {
  if (!runtimeDir) return fn();
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 24);
  const release = await acquireLock(join(dirname(runtimeDir), `image-${hostname()}-${digest}.lock`));
  try {
    return await fn();
  } finally {
    release();
  }
}

/** What `prepareImage` did: the image to run and whether it pulled or loaded anything. */
export interface PreparedImage {
  readonly image: string;
  readonly action: 'cached' | 'pulled' | 'loaded' | 'runtime';
}

/**
 * Makes the image present on this host, once: a name is pulled if `image exists` says no; an
 * archive path (`podman save`, `docker save`, an OCI archive) is loaded and tagged
 * `localhost/orrery-archive:<sha256 prefix>`, so the next task finds the tag and loads nothing.
 * Apptainer runs a `.sif` path as it is and pulls `docker://` names into its own cache.
 */
export async function prepareImage(
  runtime: ContainerRuntimeName,
  exe: string,
  image: string,
  where: NodeWhere,
): Promise<PreparedImage> {
  const file = await isFile(image);
  const fail = (what: string, run?: Run): never => {
    const tail = run ? `: ${(run.err || run.out).trim().split('\n').slice(-6).join('\n')}` : '';
    throw new RuntimeEnvSetupError(nodeName(where), 'container.image', `${nodeName(where)}: ${what}${tail}`);
  };
  if (runtime === 'apptainer') {
    if (file) return { image: image.endsWith('.sif') ? image : `docker-archive:${image}`, action: 'runtime' };
    if (isAbsolute(image) || image.endsWith('.sif'))
      return fail(`image ${image} is not a file on this node; copy the .sif there (or give a registry name)`);
    return { image: image.includes('://') ? image : `docker://${image}`, action: 'runtime' };
  }
  const exists = async (ref: string): Promise<boolean> =>
    (await runRuntime(exe, runtime === 'podman' ? ['image', 'exists', ref] : ['image', 'inspect', ref])).code === 0;
  if (file) {
    const tag = `localhost/orrery-archive:${(await fileHash(image)).slice(0, 24)}`;
    if (await exists(tag)) return { image: tag, action: 'cached' };
    const load = await runRuntime(exe, ['load', '-i', image]);
    if (load.code !== 0) fail(`${runtime} load -i ${image} failed`, load);
    // "Loaded image: name:tag", "Loaded image(s): a,b" or "Loaded image ID: sha256:..."
    const line = load.out.split('\n').find((l) => /^Loaded image/.test(l));
    const loaded = line
      ?.slice(line.indexOf(':') + 1)
      .trim()
      .split(',')[0]
      ?.trim();
    if (!loaded) return fail(`${runtime} load -i ${image} named no image (${load.out.trim()})`);
    const tagged = await runRuntime(exe, ['tag', loaded, tag]);
    if (tagged.code !== 0) fail(`${runtime} tag ${loaded} ${tag} failed`, tagged);
    return { image: tag, action: 'loaded' };
  }
  if (isAbsolute(image)) return fail(`image ${image} is not a file on this node; copy the archive there`);
  if (await exists(image)) return { image, action: 'cached' };
  const pull = await runRuntime(exe, ['pull', '--quiet', image]);
  if (pull.code !== 0)
    fail(
      `image ${image} is not on this host and ${runtime} pull ${image} failed; pull or load it there first (${runtime} pull / ${runtime} load -i), or name an image its registries have`,
      pull,
    );
  return { image, action: 'pulled' };
}

/** Removes a running container by name (podman, docker); Apptainer's processes die with the runner's process group. */
export async function removeContainer(runtime: ContainerRuntimeName, exe: string, name: string): Promise<void> {
  if (runtime === 'apptainer') return;
  await runRuntime(exe, runtime === 'podman' ? ['rm', '--force', '--time', '0', name] : ['rm', '--force', name]);
}

/**
 * Removes the container if this worker dies first (a force cancel or a node agent killing its
 * workers): conmon keeps a podman or docker container running after its `run` client is
 * killed. A detached shell waits for end-of-file on a pipe only this process holds, then runs
 * `rm`; values travel as positional parameters, never inside the script. Returns the release
 * to call when the command ended normally (the container is then gone through --rm).
 */
export function removeIfWorkerDies(runtime: ContainerRuntimeName, exe: string, name: string): () => void {
  if (runtime === 'apptainer') return () => {};
  const rm = runtime === 'podman' ? ['rm', '--force', '--time', '0'] : ['rm', '--force'];
  const reaper = spawn('/bin/sh', ['-c', 'read -r _ || exec "$@"', 'orrery-container-reaper', exe, ...rm, name], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  reaper.once('error', () => {});
  reaper.unref();
  (reaper.stdin as unknown as { unref?(): void } | null)?.unref?.();
  return () => {
    try {
      reaper.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  };
}

/** A name no other container on the host has: the task id and random bits, in the runtimes' allowed characters. */
export function containerName(taskId: string): string {
  return `orrery-${taskId.replace(/[^a-zA-Z0-9_.-]/g, '').slice(0, 32)}-${randomBytes(4).toString('hex')}`;
}

/** A call ready to run in its container: the full argv and how to remove the container. */
export interface ContainerCommand {
  /** The runtime's executable first, then its `run` words, the image and the task's argv. */
  readonly argv: string[];
  readonly runtime: ContainerRuntimeName;
  readonly image: PreparedImage;
  /** Milliseconds spent finding the runtime and making the image present. */
  readonly setupMs: number;
  /** Removes the container (cancel); harmless when it is already gone. */
  stop(): Promise<void>;
  /** Ends the watch that removes the container should this worker die; call when the command is over. */
  release(): void;
}

/** Resolves `runtimeEnv.container` on this node and builds the argv that runs `argv` in it. */
export async function containerCommand(
  c: ContainerEnv,
  call: { workDir: string; envNames: readonly string[]; gpuIds: readonly string[]; argv: readonly string[] },
  where: NodeWhere & { taskId: string },
): Promise<ContainerCommand> {
  const t0 = performance.now();
  const { runtime, exe } = await findContainerRuntime(c.runtime, where);
  const image = await withHostLock(`${runtime}\0${c.image}`, () => prepareImage(runtime, exe, c.image, where));
  const name = containerName(where.taskId);
  const words = containerRunArgv({ runtime, image: image.image, name, options: c.options ?? [], ...call });
  const release = removeIfWorkerDies(runtime, exe, name);
  return {
    release,
    argv: [exe, ...words],
    runtime,
    image,
    setupMs: performance.now() - t0,
    stop: () => removeContainer(runtime, exe, name),
  };
}
