import { DurableObject } from "cloudflare:workers";

/**
 * Which destinations of one route are cooling down (one object per route, `route:<name>`). Isolates keep
 * a copy of its view and only call it on failures and for a refresh every few seconds, so a route's
 * traffic does not serialise through it. The state is worth minutes at most: it is kept in memory, and an
 * evicted object simply starts with every destination warm.
 */
export type CooldownView = {
  /** `<provider>/<model>` → epoch ms until which it is skipped. */
  coolingUntil: Record<string, number>;
  /** `<provider>/<model>` → consecutive failures so far. */
  failures: Record<string, number>;
};

export class Cooldowns extends DurableObject<CloudflareBindings> {
  private readonly failures = new Map<string, number>();
  private readonly coolingUntil = new Map<string, number>();

  private view(now: number): CooldownView {
    for (const [dest, until] of this.coolingUntil) if (until <= now) this.coolingUntil.delete(dest);
    return {
      coolingUntil: Object.fromEntries(this.coolingUntil),
      failures: Object.fromEntries(this.failures),
    };
  }

  async get(now: number = Date.now()): Promise<CooldownView> {
    return this.view(now);
  }

  /** A failure of `dest`; after `afterFailures` in a row it cools down for `forMs`. */
  async failure(
    dest: string,
    cfg: { afterFailures: number; forMs: number },
    now: number = Date.now(),
  ): Promise<CooldownView> {
    const count = (this.failures.get(dest) ?? 0) + 1;
    if (count >= cfg.afterFailures) {
      this.coolingUntil.set(dest, now + cfg.forMs);
      this.failures.delete(dest);
    } else {
      this.failures.set(dest, count);
    }
    return this.view(now);
  }

  /** A success ends the run of failures. */
  async success(dest: string, now: number = Date.now()): Promise<CooldownView> {
    this.failures.delete(dest);
    return this.view(now);
  }
}
