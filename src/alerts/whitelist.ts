/**
 * IP whitelist (`WHITELIST_IPS`): alerts whose source or destination lies in one of these CIDR
 * blocks are dropped. Empty by default (DESIGN.md: the original whitelisted every private range,
 * which hides internal attackers).
 */
import { parseIp } from '../flow/key.js';

export class WhitelistError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

interface Block {
  ver: 4 | 6;
  words: Uint32Array;
  bits: number;
}

export class IpWhitelist {
  private readonly blocks: Block[] = [];
  private readonly scratch = new Uint32Array(4);

  /** `entries`: addresses or CIDR blocks, IPv4 or IPv6. Throws WhitelistError on a bad entry. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim();
      if (e === '') continue;
      const slash = e.indexOf('/');
      const addr = slash < 0 ? e : e.slice(0, slash);
      const words = new Uint32Array(4);
      const ver = parseIp(addr, words, 0);
      if (ver === 0) throw new WhitelistError(`invalid whitelist entry "${e}": not an IP address or CIDR block`);
      const max = ver === 4 ? 32 : 128;
      const bits = slash < 0 ? max : Number(e.slice(slash + 1));
      if (!Number.isInteger(bits) || bits < 0 || bits > max || !/^\d+$/.test(slash < 0 ? '0' : e.slice(slash + 1)))
        throw new WhitelistError(`invalid whitelist entry "${e}": prefix length must be 0..${max}`);
      this.blocks.push({ ver, words, bits });
    }
  }

  get size(): number {
    return this.blocks.length;
  }

  /** Whether an address string lies in a whitelisted block. */
  has(ip: string): boolean {
    if (this.blocks.length === 0) return false;
    const w = this.scratch;
    const ver = parseIp(ip, w, 0);
    if (ver === 0) return false;
    for (const b of this.blocks) if (b.ver === ver && inBlock(w, b)) return true;
    return false;
  }
}

function inBlock(w: Uint32Array, b: Block): boolean {
  let left = b.bits;
  for (let k = 0; k < 4 && left > 0; k++) {
    const take = Math.min(32, left);
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if ((w[k]! & mask) >>> 0 !== (b.words[k]! & mask) >>> 0) return false;
    left -= take;
  }
  return true;
}

/** Split a `WHITELIST_IPS`-style list (commas and/or whitespace). */
export function parseWhitelistList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
