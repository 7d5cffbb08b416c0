import { app } from "./app";

export { Limiter } from "./limits/limiter";
export { Cooldowns } from "./routing/cooldowns-do";

export default app satisfies ExportedHandler<CloudflareBindings>;
