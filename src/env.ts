import type { KeyRecord } from "./config/schemas";
import type { CallTrace } from "./http/call-log";
import type { Meter } from "./limits/meter";
import type { Redactor } from "./upstream/redactor";

/** Which wire format errors (and everything else) are rendered in for the current route. */
export type WireFormat = "openai" | "anthropic";

/**
 * The one environment type used by the app and every middleware. Bindings come from `wrangler types`
 * (worker-configuration.d.ts); secrets that providers name (auth.secret) are looked up by name at run
 * time, so they are not part of the static type.
 */
export type AppEnv = {
  Bindings: CloudflareBindings;
  Variables: {
    requestId: string;
    wireFormat: WireFormat;
    /** The authenticated virtual key (set by the auth middleware on /v1/*). */
    key: KeyRecord;
    /** The call's admission and accounting in the key's, team's and provider's limiters. */
    meter: Meter;
    /**
     * Takes the current upstream attempt's secret out of whatever that upstream answers; set by each
     * upstream call, read by whatever relays its response.
     */
    redactor: Redactor;
    /** What the call log records of this call, gathered as it goes. */
    call: CallTrace;
  };
};
