/** Which keys hold secret values, and redacting them at any depth of plain objects, arrays and Maps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretKey, redactSecrets, REDACTED } from '../../orchestrator/core/secret-values.ts';

test('keys that name secret values are recognised in camelCase, snake_case, kebab-case and SCREAMING_CASE', () => {
  const secret = [
    'password',
    'Password',
    'userPassword',
    'pass',
    'dbPass',
    'SMTP_PASS',
    'db_password',
    'PGPASSWORD',
    'passwd',
    'passphrase',
    'keyPassphrase',
    'secret',
    'clientSecret',
    'client_secret',
    'AWS_SECRET_ACCESS_KEY',
    'secretKey',
    'secrets',
    'token',
    'accessToken',
    'access_token',
    'refreshToken',
    'HF_TOKEN',
    'GITHUB_TOKEN',
    'sessionToken',
    'idToken',
    'bearerToken',
    'apiKey',
    'api_key',
    'API-KEY',
    'apikey',
    'APIKEY',
    'WANDB_API_KEY',
    'OPENAI_API_KEY',
    'accessKey',
    'accessKeyId',
    'access_key_id',
    'privateKey',
    'private_key',
    'privkey',
    'signingKey',
    'encryptionKey',
    'masterKey',
    'clientKey',
    'sshKey',
    'licenseKey',
    'credential',
    'credentials',
    'awsCredentials',
    'creds',
    'auth',
    'authorization',
    'Authorization',
    'basicAuth',
    'auth_header',
    'cookie',
    'Cookie',
    'cookies',
    'setCookie',
    'sessionId',
    'session_id',
    'SESSIONID',
    'sessid',
    'jwt',
    'bearer',
    'dsn',
    'SENTRY_DSN',
    // Configs name keychain secrets in keys ending in Secret; in arguments such a key may hold the value itself (OAuth's token secret).
    'tokenSecret',
    'apiKeySecret',
  ];
  const plain = [
    'monkey',
    'keyboard',
    'keys',
    'key',
    'sortKey',
    'cacheKey',
    'primaryKey',
    'partitionKey',
    'hotkey',
    'keyPath',
    'keyName',
    'maxTokens',
    'max_tokens',
    'max_new_tokens',
    'numTokens',
    'tokenizer',
    'tokenizer_name',
    'pad_token_id',
    'eos_token',
    'bos_token_id',
    'token_type_ids',
    'author',
    'authors',
    'authority',
    'oauth',
    'session',
    'sessionName',
    'passes',
    'bypass',
    'passThrough',
    'PWD',
    'secretary',
    'secretion',
    'cookbook',
    'credit',
    'lr',
    'epochs',
    'batch_size',
    'name',
    'user',
    'username',
    'email',
    'apiVersion',
    'api_url',
  ];
  for (const k of secret) assert.equal(isSecretKey(k), true, `${k} holds a secret`);
  for (const k of plain) assert.equal(isSecretKey(k), false, `${k} does not hold a secret`);
});

test('values under secret keys are replaced by the marker at any depth; names and other values stay', () => {
  const input = {
    user: 'alice',
    apiKey: 'k1',
    nested: [{ deeper: { password: { any: 'shape' }, epochs: 3 } }],
    opts: new Map<unknown, unknown>([
      ['privateKey', 'k2'],
      ['lr', 0.1],
      [7, 'seven'],
    ]),
    env: { WANDB_API_KEY: 'k3', WANDB_MODE: 'offline' },
    when: new Date(0),
    bytes: new Uint8Array([1, 2]),
  };
  const { value, redacted } = redactSecrets(input);
  assert.equal(redacted, true);
  const v = value as typeof input & { nested: { deeper: { password: unknown; epochs: number } }[] };
  assert.equal(v.user, 'alice');
  assert.equal(v.apiKey, REDACTED);
  assert.equal(v.nested[0]!.deeper.password, REDACTED);
  assert.equal(v.nested[0]!.deeper.epochs, 3);
  assert.ok(v.opts instanceof Map);
  assert.deepEqual(
    [...v.opts],
    [
      ['privateKey', REDACTED],
      ['lr', 0.1],
      [7, 'seven'],
    ],
  );
  assert.deepEqual(v.env, { WANDB_API_KEY: REDACTED, WANDB_MODE: 'offline' });
  assert.ok(v.when instanceof Date && v.bytes instanceof Uint8Array);
  assert.equal(input.apiKey, 'k1', 'the input is not changed');
  assert.equal(input.opts.get('privateKey'), 'k2');
});

test('nothing to redact returns the same value and says so; cycles and proto-less objects are handled', () => {
  const plain = { a: [1, { b: 'c' }] };
  assert.deepEqual(redactSecrets(plain), { value: plain, redacted: false });
  const cyclic: Record<string, unknown> = { token: 't' };
  cyclic.self = cyclic;
  const out = redactSecrets(cyclic).value as Record<string, unknown>;
  assert.equal(out.token, REDACTED);
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { secret: 's', n: 1 });
  assert.deepEqual({ ...(redactSecrets(bare).value as object) }, { secret: REDACTED, n: 1 });
  assert.deepEqual(redactSecrets(['x', 1, null]), { value: ['x', 1, null], redacted: false });
});
