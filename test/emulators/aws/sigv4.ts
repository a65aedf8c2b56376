/**
 * AWS Signature Version 4 as a service sees it: parse the Authorization header (which carries
 * the access key id and, in its credential scope, the region and service the request is for),
 * and recompute the signature from the request and the known secret key.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/braket/aws4_request, SignedHeaders=host;x-amz-date, Signature=...`. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly date: string;
  readonly region: string;
  /** The signing name of the service, e.g. `s3`, `braket`, `sagemaker`, `logs`. */
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** The request as received, before any decoding, which is what was signed. */
export interface SignedRequest {
  readonly method: string;
  /** Path as sent (still percent-encoded). */
  readonly rawPath: string;
  /** Query string as sent, without `?`. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Parses a SigV4 Authorization header; undefined when it is missing or not SigV4. */
export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  if (!header?.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const scope = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (scope?.length !== 5 || scope[4] !== 'aws4_request' || !signedHeaders || !signature) return undefined;
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/**
 * The signature the client should have sent. `uriEscapePath` is true for every service except S3,
 * whose paths are signed as they are instead of being escaped a second time.
 */
export function expectedSignature(
  auth: SigV4Authorization,
  req: SignedRequest,
  secretAccessKey: string,
  uriEscapePath: boolean,
): string {
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256') || sha256(req.body);
  const canonicalRequest = [
    req.method,
    uriEscapePath ? escapedPath(req.rawPath) : req.rawPath,
    canonicalQuery(req.rawQuery),
    auth.signedHeaders
      .map(
        (h) =>
          `${h}:${headerValue(req.headers, h)
            .replace(/[\r\n]/g, ' ')
            .replace(/[ \t]+/g, ' ')
            .replace(/^ | $/g, '')}\n`,
      )
      .join(''),
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256(canonicalRequest)}`;
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, auth.date);
  for (const part of [auth.region, auth.service, 'aws4_request']) key = hmac(key, part);
  return hmac(key, stringToSign).toString('hex');
}

/** RFC 3986 escaping as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path with empty and dot segments removed, escaped a second time, slashes kept. */
function escapedPath(path: string): string {
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  const byKey = new Map<string, string[]>();
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = escapeUri(decodeURIComponent(eq < 0 ? part : part.slice(0, eq)));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (key.toLowerCase() === 'x-amz-signature') continue;
    byKey.set(key, [...(byKey.get(key) ?? []), `${key}=${escapeUri(value)}`]);
  }
  return [...byKey.keys()]
    .sort()
    .map((k) => byKey.get(k)!.sort().join('&'))
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
