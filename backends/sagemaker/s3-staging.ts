/**
 * Moving a command's files through S3. Inputs are stored once by content
 * (`<s3Prefix>/inputs/sha256/<hex>`: HeadObject first, so an unchanged input is never uploaded
 * again) and then copied server-side to `<s3Prefix>/<job>/input/<relative path>`, which the job
 * mounts as its one channel `inputs`: inside the container the tree appears under
 * /opt/ml/input/data/inputs/ with every relative path kept. Outputs come back from the archives
 * SageMaker writes under `<s3Prefix>/<job>/output/`.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3Location } from './config.ts';
import { readTarGz } from './tar-reader.ts';

/** The channel every input lands in, and where the container sees it. */
export const INPUT_CHANNEL = 'inputs';
/** The container paths a job's files live at. */
export const CONTAINER_PATHS = {
  input: `/opt/ml/input/data/${INPUT_CHANNEL}`,
  model: '/opt/ml/model',
  output: '/opt/ml/output/data',
} as const;

/** What staging did. */
export interface StagedInputs {
  /** `s3://bucket/<prefix>/<job>/input/`: the channel's S3Prefix. */
  readonly channelUri: string;
  /** Inputs that were uploaded, and those S3 already held. */
  readonly uploaded: number;
  readonly reused: number;
}

/** An input path is relative and stays inside the tree (no `..`, no leading `/`). */
export function checkInputPath(rel: string): string {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (rel.startsWith('/') || parts.length === 0 || parts.includes('..')) {
    throw new TypeError(
      `command input path ${JSON.stringify(rel)} must be relative and stay inside the working directory`,
    );
  }
  return parts.join('/');
}

/** `<prefix>/<rest>` without doubled slashes. */
export function keyUnder(loc: S3Location, rest: string): string {
  return loc.prefix ? `${loc.prefix}/${rest}` : rest;
}

/** Uploads what S3 lacks and lays out the job's input tree; undefined when there are no inputs. */
export async function stageInputs(
  s3: S3Client,
  loc: S3Location,
  jobName: string,
  inputs: Readonly<Record<string, Uint8Array | string>>,
  signal?: AbortSignal,
): Promise<StagedInputs | undefined> {
  const entries = Object.entries(inputs);
  if (entries.length === 0) return undefined;
  let uploaded = 0;
  let reused = 0;
  const treeKey = keyUnder(loc, `${jobName}/input`);
  for (const [rel, value] of entries) {
    const path = checkInputPath(rel);
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    const hash = createHash('sha256').update(bytes).digest('hex');
    const blobKey = keyUnder(loc, `inputs/sha256/${hash}`);
    if (await exists(s3, loc.bucket, blobKey, signal)) {
      reused++;
    } else {
      await s3.send(
        new PutObjectCommand({
          Bucket: loc.bucket,
          Key: blobKey,
          Body: bytes,
          ChecksumSHA256: Buffer.from(hash, 'hex').toString('base64'),
        }),
        { abortSignal: signal },
      );
      uploaded++;
    }
    await s3.send(
      new CopyObjectCommand({
        Bucket: loc.bucket,
        Key: `${treeKey}/${path}`,
        CopySource: `${loc.bucket}/${encodeKey(blobKey)}`,
      }),
      { abortSignal: signal },
    );
  }
  return { channelUri: `s3://${loc.bucket}/${treeKey}/`, uploaded, reused };
}

async function exists(s3: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

/** CopySource wants the key URL-encoded, slashes kept. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * A finished job's files: model.tar.gz as `model/<path>` and output.tar.gz as `output/<path>`.
 * A missing archive (a job that wrote nothing there still gets one; a stopped job may not) is
 * read as empty.
 */
export async function readJobOutputs(
  s3: S3Client,
  modelArtifactsUri: string,
  signal?: AbortSignal,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const m = /^s3:\/\/([^/]+)\/(.+)\/model\.tar\.gz$/.exec(modelArtifactsUri);
  if (!m) return files;
  const [, bucket, dir] = m as unknown as [string, string, string];
  for (const [archive, top] of [
    ['model.tar.gz', 'model'],
    ['output.tar.gz', 'output'],
  ] as const) {
    const bytes = await download(s3, bucket, `${dir}/${archive}`, signal);
    if (!bytes) continue;
    for (const [rel, data] of readTarGz(bytes, `s3://${bucket}/${dir}/${archive}`)) files.set(`${top}/${rel}`, data);
  }
  return files;
}

async function download(
  s3: S3Client,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}
