import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, randomPassword, verifyPassword } from './passwords.js';
import { hashSecret, looksLikeSecret, newSecret } from './tokens.js';

test('scrypt hashes verify the right password only, and are salted', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('correct horsE', h), false);
  assert.notEqual(await hashPassword('correct horse'), h);
});

test('malformed or hostile stored hashes are refused without throwing', async () => {
  for (const bad of [
    '',
    'plain',
    'scrypt$1$8$1$AAAA$AAAA',
    'scrypt$1073741824$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==',
    'bcrypt$x$y$z$a$b',
  ])
    assert.equal(await verifyPassword('x', bad), false, bad);
});

test('random passwords and token secrets', () => {
  assert.equal(randomPassword().length, 24);
  const s = newSecret('api_key');
  assert.ok(looksLikeSecret(s.secret));
  assert.equal(s.hash, hashSecret(s.secret));
  assert.ok(s.secret.startsWith(s.prefix) && s.prefix.startsWith('vgk_'));
  assert.ok(looksLikeSecret(newSecret('session').secret));
  assert.equal(looksLikeSecret('vgs_short'), false);
});
