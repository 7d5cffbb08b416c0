import type { CooldownView } from "./cooldowns-do";

/**
 * This isolate's copy of each route's cooldown view. Reads never wait on the Durable Object: a stale copy
 * (older than REFRESH_MS) is refreshed in the background; failures and successes are reported to the
 * object, whose answer replaces the copy at once.
 */
type Env = Pick<CloudflareBindings, "COOLDOWNS">;

const REFRESH_MS = 2000;
const views = new Map<string, { view: CooldownView; fetchedAt: number }>();

const stub = (env: Env, route: string) => env.COOLDOWNS.get(env.COOLDOWNS.idFromName(`route:${route}`));

export const destId = (d: { provider: string; model: string }) => `${d.provider}/${d.model}`;

export class RouteCooldowns {
  constructor(
    private readonly env: Env,
    private readonly route: string,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  /** Whether `dest` is cooling down, by this isolate's copy; starts a refresh if the copy is stale. */
  cooling(dest: { provider: string; model: string }, now = Date.now()): boolean {
    const entry = views.get(this.route);
    if (!entry || entry.fetchedAt <= now - REFRESH_MS) {
      // Mark it fresh now so concurrent calls in this isolate start one refresh, not one each.
      views.set(this.route, { view: entry?.view ?? { coolingUntil: {}, failures: {} }, fetchedAt: now });
      this.waitUntil(
        stub(this.env, this.route)
          .get()
          .then((view) => this.store(view)),
      );
    }
    const until = views.get(this.route)?.view.coolingUntil[destId(dest)];
    return until !== undefined && until > now;
  }

  failure(
    dest: { provider: string; model: string },
    cfg: { afterFailures: number; forMs: number },
  ): Promise<void> {
    return stub(this.env, this.route)
      .failure(destId(dest), cfg)
      .then((view) => this.store(view));
  }

  /** Reported only when this isolate knows of failures to reset: a healthy route costs no calls. */
  success(dest: { provider: string; model: string }): void {
    if (!views.get(this.route)?.view.failures[destId(dest)]) return;
    this.waitUntil(
      stub(this.env, this.route)
        .success(destId(dest))
        .then((view) => this.store(view)),
    );
  }

  private store(view: CooldownView): void {
    views.set(this.route, { view, fetchedAt: Date.now() });
  }
}
