/**
 * The S3 subset Orrery's AWS backends use, path-style (`/bucket/key`, as SDK clients send it with
 * `forcePathStyle`): CreateBucket, HeadBucket, ListObjectsV2, PutObject (also aws-chunked
 * uploads), CopyObject, GetObject, HeadObject, DeleteObject; NoSuchBucket/NoSuchKey as S3 words them.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */
import { createHash } from 'node:crypto';
import {
  escapeXml,
  xmlError,
  type AuthFailure,
  type AwsReply,
  type AwsRequest,
  type AwsServiceModule,
} from './replies.ts';

/** A stored object. */
export interface S3Object {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: Date;
}

/** The emulated S3: the service module plus what tests inspect and seed. */
export class S3Emulator implements AwsServiceModule {
  readonly signingName = 's3';
  readonly uriEscapePath = false;
  private readonly store = new Map<string, Map<string, S3Object>>();

  /** Bucket names. */
  buckets(): string[] {
    return [...this.store.keys()];
  }

  /** Creates a bucket (no error if it exists). */
  createBucket(name: string): void {
    if (!this.store.has(name)) this.store.set(name, new Map());
  }

  hasBucket(name: string): boolean {
    return this.store.has(name);
  }

  /** An object, or undefined. */
  getObject(bucket: string, key: string): S3Object | undefined {
    return this.store.get(bucket)?.get(key);
  }

  /** Stores an object; the bucket must exist. */
  putObject(bucket: string, key: string, body: Buffer | string, contentType = 'application/octet-stream'): void {
    const b = this.store.get(bucket);
    if (!b) throw new Error(`no bucket ${bucket}`);
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    b.set(key, {
      body: data,
      contentType,
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      lastModified: new Date(),
    });
  }

  /** Keys of a bucket under a prefix, sorted as S3 lists them. */
  listKeys(bucket: string, prefix = ''): string[] {
    return [...(this.store.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
  }

  authError(failure: AuthFailure, accessKeyId: string): AwsReply {
    switch (failure) {
      case 'missing':
        return xmlError(403, 'AccessDenied', 'Access Denied');
      case 'unknown-key':
        return xmlError(
          403,
          'InvalidAccessKeyId',
          'The AWS Access Key Id you provided does not exist in our records.',
          { AWSAccessKeyId: accessKeyId },
        );
      case 'expired':
        return xmlError(400, 'ExpiredToken', 'The provided token has expired.');
      case 'bad-signature':
        return xmlError(
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
          { AWSAccessKeyId: accessKeyId },
        );
    }
  }

  handle(req: AwsRequest): AwsReply {
    const path = req.rawPath.replace(/^\//, '');
    const slash = path.indexOf('/');
    const bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    const key = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
    if (bucket === '') return xmlError(405, 'MethodNotAllowed', 'ListBuckets is not emulated', {}, req.method);
    if (key === '') return this.bucketOperation(req, bucket);
    const objects = this.store.get(bucket);
    if (!objects)
      return xmlError(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }, req.method);
    switch (req.method) {
      case 'PUT': {
        if (req.headers['x-amz-copy-source'] !== undefined) return this.copyObject(req, bucket, key);
        this.putObject(bucket, key, decodeBody(req), String(req.headers['content-type'] ?? 'application/octet-stream'));
        return { status: 200, headers: { etag: objects.get(key)!.etag } };
      }
      case 'GET':
      case 'HEAD': {
        const o = objects.get(key);
        if (!o) return xmlError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }, req.method);
        const headers = {
          'content-type': o.contentType,
          'content-length': String(o.body.length),
          etag: o.etag,
          'last-modified': o.lastModified.toUTCString(),
        };
        return { status: 200, headers, body: req.method === 'GET' ? o.body : undefined };
      }
      case 'DELETE':
        objects.delete(key);
        return { status: 204 };
      default:
        return xmlError(405, 'MethodNotAllowed', `${req.method} on an object is not emulated`, {}, req.method);
    }
  }

  /** CopyObject: `x-amz-copy-source: <bucket>/<url-encoded key>` (leading slash and versionId allowed). */
  private copyObject(req: AwsRequest, bucket: string, key: string): AwsReply {
    const source = decodeURIComponent(
      String(req.headers['x-amz-copy-source'])
        .replace(/\?versionId=.*$/, '')
        .replace(/^\//, ''),
    );
    const slash = source.indexOf('/');
    const from = slash < 0 ? undefined : this.getObject(source.slice(0, slash), source.slice(slash + 1));
    if (slash < 0 || !this.hasBucket(source.slice(0, slash)))
      return xmlError(404, 'NoSuchBucket', 'The specified bucket does not exist', {
        BucketName: source.slice(0, Math.max(0, slash)),
      });
    if (!from) return xmlError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: source.slice(slash + 1) });
    this.putObject(bucket, key, from.body, from.contentType);
    const o = this.getObject(bucket, key)!;
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${escapeXml(o.etag)}</ETag></CopyObjectResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  }

  private bucketOperation(req: AwsRequest, bucket: string): AwsReply {
    if (req.method === 'PUT') {
      this.createBucket(bucket);
      return { status: 200, headers: { location: `/${bucket}` } };
    }
    const objects = this.store.get(bucket);
    if (!objects)
      return xmlError(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }, req.method);
    if (req.method === 'HEAD') return { status: 200, headers: { 'x-amz-bucket-region': req.region } };
    if (req.method === 'GET' && req.query.get('list-type') === '2') return this.listObjectsV2(req, bucket);
    return xmlError(405, 'MethodNotAllowed', `${req.method} on a bucket is not emulated`, {}, req.method);
  }

  private listObjectsV2(req: AwsRequest, bucket: string): AwsReply {
    const prefix = req.query.get('prefix') ?? '';
    const maxKeys = Number(req.query.get('max-keys') ?? 1000);
    const after = req.query.get('continuation-token') ?? req.query.get('start-after') ?? '';
    const keys = this.listKeys(bucket, prefix).filter((k) => k > after);
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page
      .map((k) => {
        const o = this.getObject(bucket, k)!;
        return `<Contents><Key>${escapeXml(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated ? `<NextContinuationToken>${escapeXml(page[page.length - 1]!)}</NextContinuationToken>` : '';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  }
}

/** The object bytes of a PutObject, unwrapping `Content-Encoding: aws-chunked` (`<hex size>[;ext]\r\n<data>\r\n ... 0\r\n<trailers>`). */
function decodeBody(req: AwsRequest): Buffer {
  const encoding = String(req.headers['content-encoding'] ?? '');
  if (
    !encoding
      .split(',')
      .map((s) => s.trim())
      .includes('aws-chunked')
  )
    return req.body;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = req.body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(req.body.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!(size > 0)) break;
    parts.push(req.body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
