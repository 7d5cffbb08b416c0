import { app } from "./app";
import { consumeCalls, consumeDeadLetters, isDeadLetterQueue } from "./observe/consumer";
import { pruneCalls } from "./observe/retention";

export { Limiter } from "./limits/limiter";
export { Cooldowns } from "./routing/cooldowns-do";

export default {
  fetch: app.fetch,
  /** The call log's consumer (→ R2 + D1) and its dead-letter queue's (→ R2 `dead-letter/`). */
  async queue(batch, env) {
    if (isDeadLetterQueue(batch.queue)) await consumeDeadLetters(batch, env, Date.now());
    else await consumeCalls(batch, env);
  },
  /** The Cron Trigger: calls older than CALL_LOG_RETENTION_DAYS leave D1. */
  async scheduled(controller, env) {
    await pruneCalls(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<CloudflareBindings>;
