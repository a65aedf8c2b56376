/**
 * What an emulated AWS service module receives and answers, and the error shapes of the AWS
 * protocols: REST-JSON and JSON 1.0/1.1 (error type in `x-amzn-ErrorType` and `__type`, text in
 * `message`) and REST-XML (S3's `<Error><Code>...</Code><Message>...</Message></Error>`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A request that passed authentication, as a service module sees it. */
export interface AwsRequest {
  readonly method: string;
  /** Path as sent, still percent-encoded (a Braket ARN in the path arrives as `arn%3Aaws%3A...%2F...`). */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Region of the request's credential scope. */
  readonly region: string;
  readonly accessKeyId: string;
}

/** A service module's answer. */
export interface AwsReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** Why the router refused a request before it reached a module. */
export type AuthFailure =
  /** No SigV4 Authorization header. */
  | 'missing'
  /** The access key id is not one the emulator knows. */
  | 'unknown-key'
  /** The key is known but configured as expired (a stale session token). */
  | 'expired'
  /** The signature does not match the one computed with the key's secret. */
  | 'bad-signature';

/** One emulated service, selected by the signing name in the SigV4 credential scope. */
export interface AwsServiceModule {
  /** SigV4 signing name: `s3`, `braket`, later `sagemaker`, `logs`. */
  readonly signingName: string;
  /** Whether the path is signed escaped a second time (every service but S3). */
  readonly uriEscapePath: boolean;
  handle(req: AwsRequest): Promise<AwsReply> | AwsReply;
  /** How this service's protocol words an authentication failure. */
  authError(failure: AuthFailure, accessKeyId: string): AwsReply;
}

/** A JSON-protocol error (REST-JSON and JSON 1.x alike: the SDKs read the header or `__type`). */
export function jsonError(
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): AwsReply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({ __type: type, message, ...extra }),
  };
}

/** A JSON success reply. */
export function jsonReply(status: number, body: unknown): AwsReply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

/** The authentication errors of JSON-protocol services (what API Gateway-fronted AWS services return). */
export function jsonAuthError(failure: AuthFailure): AwsReply {
  switch (failure) {
    case 'missing':
      return jsonError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    case 'unknown-key':
      return jsonError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'expired':
      return jsonError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
    case 'bad-signature':
      return jsonError(
        403,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
  }
}

/** An S3 (REST-XML) error; HEAD replies carry no body, as S3's do. */
export function xmlError(
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
  method = 'GET',
): AwsReply {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${fields}<RequestId>${requestId}</RequestId><HostId>emulator</HostId></Error>`;
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body: method === 'HEAD' ? '' : body,
  };
}

/** Escapes text for XML content. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
