import { app } from "./app";

export { Limiter } from "./limits/limiter";

export default app satisfies ExportedHandler<CloudflareBindings>;
