/**
 * Fixed-window rate limits as Flask-Limiter counts them (the original's limiter): each rule
 * ("50 per minute") is a window that starts at the client's first request and allows `max`
 * requests; counters are per client address and route. A route with its own limits uses only
 * those (Flask-Limiter's override_defaults); the others get the default rules, all of which must
 * allow the request. A rejected request does not count.
 *
 * In-process memory (one server process); the key table is capped at MAX_KEYS: beyond it expired
 * windows are swept, then the oldest dropped down to 90 % (a dropped client starts a fresh window).
 */

export interface RateLimitRule {
  max: number;
  windowS: number;
}

/** Counters kept at most (about 100 bytes each). */
export const MAX_KEYS = 100_000;

const UNITS: Record<string, number> = {
  second: 1,
  seconds: 1,
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
  month: 30 * 86_400,
  months: 30 * 86_400,
  year: 365 * 86_400,
  years: 365 * 86_400,
};

/**
 * Flask-Limiter's notation: rules separated by ";" or ",", each `COUNT per|/ [N] UNIT`
 * ("200 per hour; 50 per minute", "10/minute", "5 per 30 seconds"). Throws on anything else.
 */
export function parseLimits(spec: string): RateLimitRule[] {
  const out: RateLimitRule[] = [];
  for (const part of spec.split(/[;,]/)) {
    const s = part.trim().toLowerCase();
    if (s === '') continue;
    const m = /^(\d+)\s*(?:per|\/)\s*(\d+)?\s*([a-z]+)$/.exec(s);
    const unit = m === null ? undefined : UNITS[m[3]!];
    const max = m === null ? NaN : Number(m[1]);
    const n = m === null || m[2] === undefined ? 1 : Number(m[2]);
    if (m === null || unit === undefined || !(max >= 1) || !(n >= 1) || !Number.isSafeInteger(max))
      throw new Error(`"${part.trim()}" is not a rate limit like "50 per minute" or "10/hour"`);
    out.push({ max, windowS: n * unit });
  }
  if (out.length === 0) throw new Error('no rate limit given');
  return out;
}

export interface LimitDecision {
  allowed: boolean;
  /** The tightest rule's figures (for X-RateLimit-* headers). */
  limit: number;
  remaining: number;
  /** Seconds until that rule's window resets. */
  resetS: number;
  /** When refused: seconds until the refusing window resets (Retry-After). */
  retryAfterS: number;
}

interface Window {
  startMs: number;
  count: number;
  endMs: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();

  get size(): number {
    return this.windows.size;
  }

  /** Count one request of `client` on `route` against `rules`, unless one of them is exhausted. */
  hit(client: string, route: string, rules: readonly RateLimitRule[], nowMs = Date.now()): LimitDecision {
    let retryAfterS = 0;
    let best: LimitDecision | null = null;
    const cur: Window[] = [];
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      const key = `${client}|${route}|${r.max}/${r.windowS}`;
      let w = this.windows.get(key);
      if (w === undefined || w.endMs <= nowMs) {
        w = { startMs: nowMs, count: 0, endMs: nowMs + r.windowS * 1000 };
        this.windows.delete(key);
        this.windows.set(key, w);
      }
      cur.push(w);
      const resetS = Math.max(1, Math.ceil((w.endMs - nowMs) / 1000));
      if (w.count >= r.max) retryAfterS = Math.max(retryAfterS, resetS);
      const remaining = Math.max(0, r.max - w.count - 1);
      if (best === null || remaining < best.remaining)
        best = { allowed: true, limit: r.max, remaining, resetS, retryAfterS: 0 };
    }
    if (this.windows.size > MAX_KEYS) this.evict(nowMs);
    if (retryAfterS > 0)
      return { ...(best ?? { limit: 0, resetS: retryAfterS }), allowed: false, remaining: 0, retryAfterS };
    for (const w of cur) w.count++;
    return best ?? { allowed: true, limit: 0, remaining: 0, resetS: 0, retryAfterS: 0 };
  }

  clear(): void {
    this.windows.clear();
  }

  private evict(nowMs: number): void {
    for (const [k, w] of this.windows) if (w.endMs <= nowMs) this.windows.delete(k);
    // Map iteration is insertion order: the first keys are the least recently (re)started windows.
    // Down to 90 % so the O(n) sweep runs once per MAX_KEYS / 10 new clients, not on every one.
    for (const k of this.windows.keys()) {
      if (this.windows.size <= MAX_KEYS * 0.9) break;
      this.windows.delete(k);
    }
  }
}
