import { useState } from "preact/hooks";
import { api, fmt } from "../api.js";
import {
  ErrorBox,
  Field,
  LimitsFields,
  Table,
  Warnings,
  describeLimits,
  html,
  limitsForm,
  limitsFromForm,
  useLoad,
} from "../components.js";

const list = (text) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

const emptyForm = () => ({
  name: "",
  team: "",
  providers: "",
  models: "",
  expiresAt: "",
  limits: limitsForm(undefined),
});

const formOf = (k) => ({
  name: k.name,
  team: k.team ?? "",
  providers: (k.providers ?? []).join(", "),
  models: (k.models ?? []).join(", "),
  expiresAt: k.expiresAt ?? "",
  limits: limitsForm(k.limits),
});

/** POST takes absent fields as "none"; PATCH needs `null` to clear them. */
function bodyOf(f, patch) {
  const none = patch ? null : undefined;
  const providers = list(f.providers);
  const models = list(f.models);
  return {
    name: f.name.trim(),
    team: f.team || none,
    providers: providers.length ? providers : none,
    models: models.length ? models : none,
    expiresAt: f.expiresAt.trim() || none,
    limits: limitsFromForm(f.limits) ?? none,
  };
}

function KeyForm({ initial, teams, onSubmit, submitLabel, onCancel }) {
  const [f, setF] = useState(initial);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await onSubmit(f);
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card form" onSubmit=${submit} data-testid="key-form">
    <div class="row">
      <${Field} label="Name"><input name="name" value=${f.name} onInput=${set("name")} required /><//>
      <${Field} label="Team">
        <select name="team" value=${f.team} onChange=${set("team")}>
          <option value="">(none)</option>
          ${teams.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      <//>
      <${Field} label="Expires at" hint="ISO 8601 with offset, e.g. 2027-01-01T00:00:00Z"
        ><input name="expiresAt" value=${f.expiresAt} onInput=${set("expiresAt")}
      /><//>
    </div>
    <div class="row">
      <${Field} label="Allowed providers" hint="comma-separated; blank: all"
        ><input name="providers" value=${f.providers} onInput=${set("providers")}
      /><//>
      <${Field} label="Allowed models" hint="<provider>/<model>, <provider>/* or a route; blank: all"
        ><input name="models" value=${f.models} onInput=${set("models")}
      /><//>
    </div>
    <${LimitsFields} value=${f.limits} onChange=${(limits) => setF({ ...f, limits })} />
    <div class="actions">
      <button type="submit">${submitLabel}</button>
      ${onCancel && html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>`}
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** The new key, shown once, with a copy button. */
function NewKey({ created, onDone }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(created.key);
    setCopied(true);
  };
  return html`<div class="card secret" data-testid="new-key">
    <h2>Key '${created.name}' created</h2>
    <p>Copy it now: it is shown only this once. The gateway keeps only its hash.</p>
    <div class="copy-row">
      <code data-testid="new-key-value">${created.key}</code>
      <button type="button" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
    </div>
    <${Warnings} warnings=${created.warnings} />
    <button type="button" class="secondary" onClick=${onDone}>Done</button>
  </div>`;
}

function live(k) {
  const l = k.live ?? {};
  const parts = [];
  if (l.requests) parts.push(`${l.requests.limit - l.requests.remaining}/${l.requests.limit} req/min`);
  if (l.tokens)
    parts.push(`${fmt.int(l.tokens.limit - l.tokens.remaining)}/${fmt.int(l.tokens.limit)} tok/min`);
  if (l.concurrency) parts.push(`${l.concurrency.inFlight}/${l.concurrency.limit} in flight`);
  if (l.budget) parts.push(`${fmt.usd(l.budget.spentUsd)} of $${l.budget.usd}/${l.budget.period}`);
  return parts.join(" · ") || "–";
}

export function Keys() {
  const keys = useLoad(() => api("GET", "/admin/keys"));
  const teams = useLoad(() => api("GET", "/admin/teams"));
  const [mode, setMode] = useState(null);
  const [created, setCreated] = useState(null);
  const [saved, setSaved] = useState(null);
  const [error, setError] = useState(null);

  const act = async (fn) => {
    setError(null);
    setSaved(null);
    try {
      await fn();
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  const create = async (f) => {
    const res = await api("POST", "/admin/keys", bodyOf(f, false));
    setMode(null);
    setCreated(res);
    keys.reload();
  };
  const update = (id) => async (f) => {
    const res = await api("PATCH", `/admin/keys/${id}`, bodyOf(f, true));
    setMode(null);
    setSaved(res);
    keys.reload();
  };

  const columns = [
    {
      label: "Name",
      render: (k) =>
        html`<strong>${k.name}</strong>
          <div class="muted">${k.id} · ${k.preview}</div>`,
    },
    { label: "Status", render: (k) => html`<span class=${`badge ${k.status}`}>${k.status}</span>` },
    { label: "Team", render: (k) => k.team ?? "–" },
    { label: "Allowed", render: (k) => [...(k.providers ?? []), ...(k.models ?? [])].join(", ") || "all" },
    { label: "Limits", render: (k) => describeLimits(k.limits) },
    { label: "Live", render: live },
    { label: "Expires", render: (k) => (k.expiresAt ? fmt.time(k.expiresAt) : "never") },
    {
      label: "",
      render: (k) =>
        html`<div class="row-actions">
          <button class="small secondary" onClick=${() => setMode({ edit: k })}>Edit</button>
          <button
            class="small secondary"
            data-testid=${`toggle-${k.name}`}
            onClick=${() => act(() => api("PATCH", `/admin/keys/${k.id}`, { disabled: !k.disabled }))}
          >
            ${k.disabled ? "Enable" : "Disable"}
          </button>
          <button
            class="small danger"
            onClick=${() => confirm(`Delete key '${k.name}'? It stops working at once.`) && act(() => api("DELETE", `/admin/keys/${k.id}`))}
          >
            Delete
          </button>
        </div>`,
    },
  ];

  return html`<div>
    <div class="toolbar">
      <button onClick=${() => setMode({ create: true })} data-testid="new-key-button">New key</button>
    </div>
    ${created && html`<${NewKey} created=${created} onDone=${() => setCreated(null)} />`}
    ${saved && html`<${Warnings} warnings=${saved.warnings} />`}
    ${
      mode?.create &&
      html`<${KeyForm}
        initial=${emptyForm()}
        teams=${teams.data?.data ?? []}
        submitLabel="Create key"
        onSubmit=${create}
        onCancel=${() => setMode(null)}
      />`
    }
    ${
      mode?.edit &&
      html`<${KeyForm}
        key=${mode.edit.id}
        initial=${formOf(mode.edit)}
        teams=${teams.data?.data ?? []}
        submitLabel="Save"
        onSubmit=${update(mode.edit.id)}
        onCancel=${() => setMode(null)}
      />`
    }
    <${ErrorBox} error=${error ?? keys.error} />
    <${Table}
      testId="keys-table"
      columns=${columns}
      rows=${keys.data?.data}
      empty=${keys.loading ? "Loading…" : "No keys yet."}
    />
    <p class="hint">
      Live: the last 60 s. Requests count as used once a gateway isolate leases them (up to a quarter of what
      is left, for at most 1 s), until it reports how many it used; the rest come back.
    </p>
  </div>`;
}
