/**
 * An AWS emulator for tests: one HTTP server on 127.0.0.1 that SDK v3 clients reach through
 * `endpoint`. A request is routed to a service module by the signing name in its SigV4
 * credential scope (`AKID/date/region/<service>/aws4_request`); before that the router checks
 * the access key is known, not expired, and that the signature matches its secret, answering in
 * each service's own error shape. S3 and Braket are built in; more modules (SageMaker, CloudWatch
 * Logs) are added with `register`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BraketEmulator, type BraketEmulatorOptions } from './braket.ts';
import { jsonAuthError, jsonError, type AwsReply, type AwsServiceModule } from './replies.ts';
import { S3Emulator } from './s3.ts';
import { expectedSignature, parseAuthorization } from './sigv4.ts';

/** A key pair the emulator accepts. */
export interface EmulatorCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Options of `startAwsEmulator`. */
export interface AwsEmulatorOptions {
  /** Check signatures against the keys' secrets (default true). */
  readonly verifySignatures?: boolean;
  /** Buckets that exist from the start. */
  readonly buckets?: readonly string[];
  readonly braket?: BraketEmulatorOptions;
}

/** One request the router accepted or refused. */
export interface RecordedRequest {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A running emulator. */
export interface AwsEmulator {
  /** `http://127.0.0.1:PORT`, for the clients' `endpoint`. */
  readonly endpoint: string;
  /** Keys that work. */
  readonly credentials: EmulatorCredentials;
  /** Keys the emulator knows but treats as expired (ExpiredTokenException / ExpiredToken). */
  readonly expiredCredentials: EmulatorCredentials;
  readonly s3: S3Emulator;
  readonly braket: BraketEmulator;
  /** Every request, in order. */
  readonly requests: readonly RecordedRequest[];
  /** Adds a service module (routed by its signing name). */
  register(module: AwsServiceModule): void;
  close(): Promise<void>;
}

/** Starts an emulator on a free loopback port. */
export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const credentials = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString('base64'),
  };
  const expiredCredentials = {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString('base64'),
  };
  const secrets = new Map([
    [credentials.accessKeyId, credentials.secretAccessKey],
    [expiredCredentials.accessKeyId, expiredCredentials.secretAccessKey],
  ]);
  const s3 = new S3Emulator();
  for (const b of options.buckets ?? []) s3.createBucket(b);
  const braket = new BraketEmulator(s3, options.braket);
  const modules = new Map<string, AwsServiceModule>([
    [s3.signingName, s3],
    [braket.signingName, braket],
  ]);
  const requests: RecordedRequest[] = [];
  const verify = options.verifySignatures ?? true;

  const route = async (req: IncomingMessage, body: Buffer): Promise<{ service: string; reply: AwsReply }> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) return { service: '?', reply: jsonAuthError('missing') };
    const module = modules.get(auth.service);
    if (!module)
      return {
        service: auth.service,
        reply: jsonError(
          400,
          'UnknownServiceException',
          `the emulator has no service with signing name ${auth.service}`,
        ),
      };
    const secret = secrets.get(auth.accessKeyId);
    if (secret === undefined)
      return { service: auth.service, reply: module.authError('unknown-key', auth.accessKeyId) };
    if (auth.accessKeyId === expiredCredentials.accessKeyId)
      return { service: auth.service, reply: module.authError('expired', auth.accessKeyId) };
    const method = req.method ?? 'GET';
    if (
      verify &&
      expectedSignature(
        auth,
        { method, rawPath, rawQuery, headers: req.headers, body },
        secret,
        module.uriEscapePath,
      ) !== auth.signature
    ) {
      return { service: auth.service, reply: module.authError('bad-signature', auth.accessKeyId) };
    }
    const reply = await module.handle({
      method,
      rawPath,
      query: new URLSearchParams(rawQuery),
      headers: req.headers,
      body,
      region: auth.region,
      accessKeyId: auth.accessKeyId,
    });
    return { service: auth.service, reply };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      route(req, Buffer.concat(chunks))
        .catch((err: Error) => ({
          service: '?',
          reply: jsonError(500, 'InternalFailure', `emulator error: ${err.stack ?? err.message}`),
        }))
        .then(({ service, reply }) => {
          requests.push({ service, method: req.method ?? '', path: req.url ?? '', status: reply.status });
          const body = reply.body ?? '';
          res.writeHead(reply.status, { 'content-length': String(Buffer.byteLength(body)), ...reply.headers });
          res.end(req.method === 'HEAD' ? undefined : body);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    expiredCredentials,
    s3,
    braket,
    requests,
    register: (m) => void modules.set(m.signingName, m),
    close: async () => {
      braket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
