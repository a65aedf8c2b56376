import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ORRERY_VERSION } from '../../orchestrator/core/version.ts';

test('ORRERY_VERSION equals package.json version (sessions record it)', () => {
  assert.equal(
    ORRERY_VERSION,
    (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  );
});
