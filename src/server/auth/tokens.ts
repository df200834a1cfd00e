/**
 * Bearer secrets: login sessions (`vgs_...`, also the session cookie) and API keys (`vgk_...`).
 * 32 random bytes; only the SHA-256 of the secret is stored (a key with 256 bits of entropy needs
 * no slow hash), with the first characters kept as a prefix to recognise it in a list.
 */
import crypto from 'node:crypto';
import type { TokenKind } from '../../store/types.js';

export const SESSION_COOKIE = 'vigil_session';
const PREFIX: Record<TokenKind, string> = { session: 'vgs_', api_key: 'vgk_' };

export interface NewSecret {
  secret: string;
  hash: string;
  prefix: string;
}

export function newSecret(kind: TokenKind): NewSecret {
  const secret = PREFIX[kind] + crypto.randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret), prefix: secret.slice(0, 10) };
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

/** Shape check before touching the store (anything else cannot be one of ours). */
export function looksLikeSecret(s: string): boolean {
  return /^vg[sk]_[A-Za-z0-9_-]{43}$/.test(s);
}
