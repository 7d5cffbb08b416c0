import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorBox, Field, JsonEditor, Table, html, parseJsonInput, useLoad } from "../components.js";

const TEMPLATE = {
  destinations: [{ provider: "databricks", model: "databricks-claude-sonnet-4", weight: 1 }],
  fallbacks: [],
  retries: 1,
};

const settingsOf = ({ name: _name, ...settings }) => settings;
const target = (t) => `${t.provider}/${t.model}${t.weight !== undefined ? ` ×${t.weight}` : ""}`;

function RouteForm({ initial, onSaved, onCancel }) {
  const [name, setName] = useState(initial?.name ?? "");
  const [text, setText] = useState(JSON.stringify(initial ? settingsOf(initial) : TEMPLATE, null, 2));
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const parsed = parseJsonInput(text);
    if (parsed.error) return setError(parsed.error);
    try {
      onSaved(await api("PUT", `/admin/routes/${encodeURIComponent(name.trim())}`, parsed.value));
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card form" onSubmit=${submit} data-testid="route-form">
    <${Field} label="Name" hint="what clients send as model"
      ><input
        name="name"
        value=${name}
        disabled=${Boolean(initial)}
        onInput=${(e) => setName(e.currentTarget.value)}
        required
    /><//>
    <${Field}
      label="Settings (JSON)"
      hint="destinations, fallbacks, retryOn, retries, backoff, firstByteTimeoutMs, deadlineMs, cooldown: see the README"
      ><${JsonEditor} name="settings" value=${text} onInput=${setText}
    /><//>
    <div class="actions">
      <button type="submit">${initial ? "Save" : "Create route"}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}

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
