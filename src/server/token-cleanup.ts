/**
 * Expired login sessions are deleted by the server (issue 7): once when it is ready and then every
 * hour, so `api_tokens` does not grow by a row per login forever. An expired session already fails
 * authentication (findApiToken checks the expiry); this only removes the dead rows. API keys are
 * left alone (Repository.deleteExpiredTokens).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Repository } from '../store/repository.js';

/** Sweep interval: sessions live 12 h by default, so an hour keeps at most ~1/12 of them dead. */
export const TOKEN_CLEANUP_INTERVAL_MS = 3_600_000;

/** Sweeps on start and on a timer; one sweep at a time. */
export class TokenCleanup {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly repo: Pick<Repository, 'deleteExpiredTokens'>,
    private readonly log: Pick<FastifyBaseLogger, 'info' | 'error'>,
    private readonly intervalMs = TOKEN_CLEANUP_INTERVAL_MS,
  ) {}

  /** Sweep now, then every intervalMs. Resolves after the first sweep. */
  async start(): Promise<void> {
    if (this.stopped || this.timer !== null) return;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    // The timer alone does not keep the process alive (close() stops it anyway).
    this.timer.unref();
    await this.sweep();
  }

  /**
   * One sweep; returns the rows deleted (0 after a failure, which is logged). A sweep still running
   * when the timer fires again is not doubled: the caller shares it.
   */
  sweep(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (this.running !== null) return this.running;
    this.running = this.repo.deleteExpiredTokens(Date.now() * 1000).then(
      (n) => {
        this.running = null;
        if (n > 0) this.log.info({ deleted: n }, 'expired sessions deleted');
        return n;
      },
      (e: unknown) => {
        this.running = null;
        // Not fatal: the rows are already unusable; the next sweep tries again.
        this.log.error({ err: e }, 'deleting expired sessions failed');
        return 0;
      },
    );
    return this.running;
  }

  /** Stop the timer and wait for a sweep in progress (before the store closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.running !== null) await this.running;
  }
}

/** Wire a TokenCleanup into the app: first sweep when ready, stopped before the store closes. */
export function addTokenCleanup(app: FastifyInstance, repo: Repository, intervalMs?: number): TokenCleanup {
  const c = new TokenCleanup(repo, app.log, intervalMs);
  app.addHook('onReady', () => c.start());
  // preClose runs before the onClose hook that closes the store.
  app.addHook('preClose', () => c.stop());
  return c;
}
