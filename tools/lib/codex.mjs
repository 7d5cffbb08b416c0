// @ts-check
/**
 * Codex CLI's `config.toml` for a run through the gateway: the README's provider entry, plus what keeps
 * a run off the network (no update check, plugin catalogue sync, analytics, feedback or OTel export) and
 * off the disk (no history). The e2e test and the time-to-first-token bench both use it.
 * @param {{ gatewayUrl: string, model: string, websockets: boolean }} options
 * @returns {string}
 */
export function codexConfig({ gatewayUrl, model, websockets }) {
  return `model = "${model}"
model_provider = "bricklane"
check_for_update_on_startup = false

[features]
# Codex syncs a catalogue of plugins from GitHub at start-up.
plugins = false

[analytics]
enabled = false

[feedback]
enabled = false

[history]
persistence = "none"

[otel]
exporter = "none"

[model_providers.bricklane]
name = "Bricklane"
base_url = "${gatewayUrl}/v1"
env_key = "BRICKLANE_KEY"
wire_api = "responses"
supports_websockets = ${websockets}
`;
}
