/** One-time login codes (orchestrator/service/login-codes.ts) on a hand-driven clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOGIN_CODE_TTL_MS, LoginCodes } from '../../orchestrator/service/login-codes.ts';

test('a code is random, works once, and runs its redeemed hook once', () => {
  let redeemed = 0;
  const codes = new LoginCodes(() => 1000);
  const a = codes.issue(() => redeemed++);
  const b = codes.issue();
  assert.match(a.code, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.code, b.code);
  assert.equal(a.expiresAt, 1000 + LOGIN_CODE_TTL_MS);
  assert.equal(codes.redeem(a.code), true);
  assert.equal(codes.redeem(a.code), false);
  assert.equal(redeemed, 1);
  assert.equal(codes.redeem(`${b.code}x`), false);
  assert.equal(codes.redeem(''), false);
  assert.equal(codes.redeem(b.code), true);
});

test('a code expires two minutes after it was issued', () => {
  let now = 0;
  const codes = new LoginCodes(() => now);
  const early = codes.issue();
  const late = codes.issue();
  now = LOGIN_CODE_TTL_MS - 1;
  assert.equal(codes.redeem(early.code), true, 'still good just before its expiry');
  now = LOGIN_CODE_TTL_MS;
  assert.equal(codes.redeem(late.code), false, 'refused once expired');
  assert.equal(codes.outstanding, 0);
  assert.ok(LOGIN_CODE_TTL_MS >= 60_000 && LOGIN_CODE_TTL_MS <= 120_000);
});

test('at most 64 codes are outstanding: issuing more drops the oldest', () => {
  const codes = new LoginCodes(() => 0);
  const first = codes.issue();
  for (let i = 0; i < 64; i++) codes.issue();
  assert.equal(codes.outstanding, 64);
  assert.equal(codes.redeem(first.code), false);
});
