import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorBox, NamedJsonForm, Table, html, useLoad } from "../components.js";

const TEMPLATE = {
  destinations: [{ provider: "databricks", model: "databricks-claude-sonnet-4", weight: 1 }],
  fallbacks: [],
  retries: 1,
};

const target = (t) => `${t.provider}/${t.model}${t.weight !== undefined ? ` ×${t.weight}` : ""}`;

const RouteForm = (props) =>
  html`<${NamedJsonForm}
    ...${props}
    save=${(name, settings) => api("PUT", `/admin/routes/${encodeURIComponent(name)}`, settings)}
    testId="route-form"
    what="route"
    template=${TEMPLATE}
    nameHint="what clients send as model"
    settingsHint="destinations, fallbacks, retryOn, retries, backoff, firstByteTimeoutMs, deadlineMs, cooldown: see the README"
  />`;

export function RoutesPage() {
  const routes = useLoad(() => api("GET", "/admin/routes"));
  const [mode, setMode] = useState(null);
  const [error, setError] = useState(null);
  const remove = async (name) => {
    setError(null);
    if (!confirm(`Delete route '${name}'?`)) return;
    try {
      await api("DELETE", `/admin/routes/${encodeURIComponent(name)}`);
      routes.reload();
    } catch (err) {
      setError(err);
    }
  };
  const columns = [
    { label: "Name", render: (r) => html`<strong>${r.name}</strong>` },
    { label: "Destinations", render: (r) => r.destinations.map(target).join(", ") },
    { label: "Fallbacks", render: (r) => (r.fallbacks ?? []).map(target).join(" → ") || "–" },
    { label: "Retries", render: (r) => r.retries ?? 0 },
    {
      label: "",
      render: (r) =>
        html`<div class="row-actions">
          <button class="small secondary" onClick=${() => setMode({ edit: r })}>Edit</button>
          <button class="small danger" onClick=${() => remove(r.name)}>Delete</button>
        </div>`,
    },
  ];
  return html`<div>
    <div class="toolbar">
      <button onClick=${() => setMode({ create: true })} data-testid="new-route-button">New route</button>
    </div>
    ${
      mode &&
      html`<${RouteForm}
        key=${mode.edit?.name ?? "new"}
        initial=${mode.edit}
        onSaved=${() => {
          setMode(null);
          routes.reload();
        }}
        onCancel=${() => setMode(null)}
      />`
    }
    <${ErrorBox} error=${error ?? routes.error} />
    <${Table}
      testId="routes-table"
      columns=${columns}
      rows=${routes.data?.data}
      empty=${routes.loading ? "Loading…" : "No routes yet."}
    />
  </div>`;
}
