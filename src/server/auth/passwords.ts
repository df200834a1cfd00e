/**
 * Password hashing with scrypt (node:crypto): `scrypt$N$r$p$salt$hash`, salt and hash in base64.
 * N=2^15, r=8, p=1: 32 MiB and one hash per login (OWASP lists N=2^17 at 128 MiB; 2^15 measured
 * 275 ms per hash on the 2-core development VM under load 11, 2^14 134 ms). The format records the
 * parameters, so they can be raised later without invalidating stored hashes.
 */
import crypto from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const SALT_LEN = 16;
/** scrypt needs 128 * N * r bytes; Node's default maxmem (32 MiB) is just below that for N=2^15. */
const MAXMEM = 256 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number, len: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, len, { N: n, r, p, maxmem: MAXMEM }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(SALT_LEN);
  const key = await scrypt(password, salt, N, R, P, KEY_LEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const f = stored.split('$');
  if (f.length !== 6 || f[0] !== 'scrypt') return false;
  const n = Number(f[1]);
  const r = Number(f[2]);
  const p = Number(f[3]);
  // Bounds keep a corrupted row from asking for gigabytes.
  if (!Number.isInteger(Math.log2(n)) || n < 2 || n > 1 << 20 || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16))
    return false;
  const salt = Buffer.from(f[4]!, 'base64');
  const want = Buffer.from(f[5]!, 'base64');
  if (want.length < 16) return false;
  const got = await scrypt(password, salt, n, r, p, want.length);
  return crypto.timingSafeEqual(got, want);
}

/** A random password for the first admin: 18 bytes, base64url (24 characters). */
export function randomPassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}

/** A hash no password matches, verified when the user is unknown so timing does not tell. */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  return dummy;
}
