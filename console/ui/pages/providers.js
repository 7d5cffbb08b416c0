import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorBox, Field, NamedJsonForm, Table, Warnings, html, useLoad } from "../components.js";

const TEMPLATE = {
  format: "openai",
  baseUrl: "https://<workspace>.ai-gateway.cloud.databricks.com/mlflow",
  auth: { type: "bearer", secret: "DATABRICKS_PAT" },
  pricing: { "databricks-claude-sonnet-4": { inputPerMTok: 3, outputPerMTok: 15 } },
};

/** Name plus the provider's settings as JSON: every field the API takes, validated by the API. */
const ProviderForm = (props) =>
  html`<${NamedJsonForm}
    ...${props}
    save=${(name, settings) => api("PUT", `/admin/providers/${encodeURIComponent(name)}`, settings)}
    testId="provider-form"
    what="provider"
    template=${TEMPLATE}
    settingsHint="format, baseUrl, auth, headers, requests, models, listModelsUrl, pricing, limits, timeoutMs, defaultMaxTokens: see the README"
  />`;

/** One small call (or the models it lists), and what came back. */
function ProviderTest({ provider, onClose }) {
  const [model, setModel] = useState(provider.models?.[0] ?? "");
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(
        await api(
          "POST",
          `/admin/providers/${encodeURIComponent(provider.name)}/test`,
          model ? { model } : {},
        ),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card form" onSubmit=${run} data-testid="provider-test">
    <h2>Test '${provider.name}'</h2>
    <div class="row">
      <${Field} label="Model" hint="blank: list the provider's models instead"
        ><input name="model" value=${model} onInput=${(e) => setModel(e.currentTarget.value)}
      /><//>
    </div>
    <div class="actions">
      <button type="submit" disabled=${busy}>${busy ? "Testing…" : "Run test"}</button>
      <button type="button" class="secondary" onClick=${onClose}>Close</button>
    </div>
    <${ErrorBox} error=${error} />
    ${
      result &&
      html`<div class=${result.ok ? "ok" : "error"} data-testid="provider-test-result">
        <strong>${result.ok ? "OK" : "Failed"}</strong> · upstream ${result.status} · ${result.latencyMs} ms
        ${result.reply !== undefined && html`<p>Reply: <code>${result.reply}</code></p>`}
        ${result.models && html`<p>Models: ${result.models.length ? result.models.join(", ") : "(none)"}</p>`}
        ${result.error && html`<p>${result.error}</p>`}
        ${
          result.body &&
          html`<details>
            <summary>Raw answer</summary>
            <pre>${result.body}</pre>
          </details>`
        }
      </div>`
    }
  </form>`;
}

export function Providers() {
  const providers = useLoad(() => api("GET", "/admin/providers"));
  const [mode, setMode] = useState(null);
  const [saved, setSaved] = useState(null);
  const [error, setError] = useState(null);
  const remove = async (name) => {
    setError(null);
    if (!confirm(`Delete provider '${name}'?`)) return;
    try {
      await api("DELETE", `/admin/providers/${encodeURIComponent(name)}`);
      providers.reload();
    } catch (err) {
      setError(err);
    }
  };
  const columns = [
    { label: "Name", render: (p) => html`<strong>${p.name}</strong>` },
    { label: "Format", key: "format" },
    { label: "Base URL", render: (p) => html`<code>${p.baseUrl}</code>` },
    { label: "Auth", render: (p) => (p.auth.type === "bearer" ? `bearer: ${p.auth.secret}` : p.auth.type) },
    { label: "Priced models", render: (p) => Object.keys(p.pricing ?? {}).join(", ") || "–" },
    {
      label: "",
      render: (p) =>
        html`<div class="row-actions">
          <button
            class="small secondary"
            data-testid=${`test-${p.name}`}
            onClick=${() => setMode({ test: p })}
          >
            Test
          </button>
          <button class="small secondary" onClick=${() => setMode({ edit: p })}>Edit</button>
          <button class="small danger" onClick=${() => remove(p.name)}>Delete</button>
        </div>`,
    },
  ];
  const onSaved = (res) => {
    setMode(null);
    setSaved(res);
    providers.reload();
  };
  return html`<div>
    <div class="toolbar">
      <button onClick=${() => setMode({ create: true })} data-testid="new-provider-button">
        New provider
      </button>
    </div>
    ${saved && html`<${Warnings} warnings=${saved.warnings} />`}
    ${
      (mode?.create || mode?.edit) &&
      html`<${ProviderForm}
        key=${mode.edit?.name ?? "new"}
        initial=${mode.edit}
        onSaved=${onSaved}
        onCancel=${() => setMode(null)}
      />`
    }
    ${mode?.test && html`<${ProviderTest} key=${mode.test.name} provider=${mode.test} onClose=${() => setMode(null)} />`}
    <${ErrorBox} error=${error ?? providers.error} />
    <${Table}
      testId="providers-table"
      columns=${columns}
      rows=${providers.data?.data}
      empty=${providers.loading ? "Loading…" : "No providers yet."}
    />
  </div>`;
}
