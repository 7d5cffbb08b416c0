import { h } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

/** An API error as the API said it: the message, then each problem at its path. */
export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.status ? `${error.status}: ` : ""}</strong>${error.message}
    ${
      error.issues?.length > 1 &&
      html`<ul>
        ${error.issues.map((i) => html`<li><code>${i.path || "(body)"}</code> ${i.message}</li>`)}
      </ul>`
    }
  </div>`;
}

export function Warnings({ warnings }) {
  if (!warnings?.length) return null;
  return html`<div class="warning" role="status">
    <strong>Saved, with warnings:</strong>
    <ul>
      ${warnings.map((w) => html`<li>${w}</li>`)}
    </ul>
  </div>`;
}

/** Runs an async loader on mount and when `deps` change; `reload()` runs it again. */
export function useLoad(loader, deps = []) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    loader().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** A Chart.js chart (the library is loaded as a classic script: window.Chart). */
export function ChartView({ type = "bar", labels, datasets, stacked = false, height = 220, label }) {
  const canvas = useRef(null);
  useEffect(() => {
    const chart = new window.Chart(canvas.current, {
      type,
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: { x: { stacked }, y: { stacked, beginAtZero: true } },
      },
    });
    return () => chart.destroy();
  }, [type, JSON.stringify(labels), JSON.stringify(datasets), stacked]);
  return html`<div class="chart" style=${`height:${height}px`}>
    <canvas ref=${canvas} role="img" aria-label=${label ?? "chart"}></canvas>
  </div>`;
}

export const PALETTE = [
  "#2563eb",
  "#16a34a",
  "#f59e0b",
  "#dc2626",
  "#7c3aed",
  "#0891b2",
  "#db2777",
  "#65a30d",
];

export function Table({ columns, rows, empty = "Nothing yet.", testId }) {
  if (!rows?.length) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap">
    <table data-testid=${testId}>
      <thead>
        <tr>
          ${columns.map((c) => html`<th class=${c.num ? "num" : ""}>${c.label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r, i) =>
            html`<tr key=${r.id ?? i}>
              ${columns.map((c) => html`<td class=${c.num ? "num" : ""}>${c.render ? c.render(r) : r[c.key]}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function Field({ label, children, hint }) {
  return html`<label class="field"
    ><span>${label}</span>${children}${hint && html`<small>${hint}</small>`}</label
  >`;
}

/** Number input bound to a string state; blank means "not set". */
export function NumberInput({ value, onInput, name, step = "1" }) {
  return html`<input
    type="number"
    min="0"
    step=${step}
    name=${name}
    value=${value ?? ""}
    onInput=${(e) => onInput(e.currentTarget.value)}
  />`;
}

/** The limits shape every scope takes (key, team, provider), as form fields. */
export function LimitsFields({ value, onChange }) {
  const set = (k) => (v) => onChange({ ...value, [k]: v });
  return html`<fieldset class="limits">
    <legend>Limits (blank: none)</legend>
    <${Field} label="Requests / min"
      ><${NumberInput} name="rpm" value=${value.rpm} onInput=${set("rpm")}
    /><//>
    <${Field} label="Tokens / min"><${NumberInput} name="tpm" value=${value.tpm} onInput=${set("tpm")} /><//>
    <${Field} label="Concurrent"
      ><${NumberInput} name="maxConcurrent" value=${value.maxConcurrent} onInput=${set("maxConcurrent")}
    /><//>
    <${Field} label="Budget (USD)"
      ><${NumberInput} name="budgetUsd" step="0.01" value=${value.budgetUsd} onInput=${set("budgetUsd")}
    /><//>
    <${Field} label="per">
      <select
        name="budgetPeriod"
        value=${value.budgetPeriod ?? "month"}
        onChange=${(e) => set("budgetPeriod")(e.currentTarget.value)}
      >
        <option value="day">day</option>
        <option value="week">week</option>
        <option value="month">month</option>
      </select>
    <//>
  </fieldset>`;
}

/** Form state ⇄ the API's `limits` object (undefined when nothing is set). */
export const limitsForm = (limits) => ({
  rpm: limits?.rpm ?? "",
  tpm: limits?.tpm ?? "",
  maxConcurrent: limits?.maxConcurrent ?? "",
  budgetUsd: limits?.budget?.usd ?? "",
  budgetPeriod: limits?.budget?.period ?? "month",
});

export function limitsFromForm(f) {
  const out = {};
  for (const k of ["rpm", "tpm", "maxConcurrent"])
    if (f[k] !== "" && f[k] !== undefined) out[k] = Number(f[k]);
  if (f.budgetUsd !== "" && f.budgetUsd !== undefined)
    out.budget = { usd: Number(f.budgetUsd), period: f.budgetPeriod };
  return Object.keys(out).length ? out : undefined;
}

export function describeLimits(limits) {
  if (!limits) return "–";
  const parts = [];
  if (limits.rpm) parts.push(`${limits.rpm} rpm`);
  if (limits.tpm) parts.push(`${limits.tpm} tpm`);
  if (limits.maxConcurrent) parts.push(`${limits.maxConcurrent} concurrent`);
  if (limits.budget) parts.push(`$${limits.budget.usd}/${limits.budget.period}`);
  return parts.join(", ") || "–";
}

/** A JSON text area for settings with nested shapes; the API validates and names what is wrong. */
export function JsonEditor({ value, onInput, rows = 14, name }) {
  return html`<textarea
    class="json"
    name=${name}
    rows=${rows}
    spellcheck="false"
    value=${value}
    onInput=${(e) => onInput(e.currentTarget.value)}
  ></textarea>`;
}

export function parseJsonInput(text) {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: { message: `The settings are not valid JSON: ${e.message}`, issues: [] } };
  }
}

export function Stat({ label, value, sub, testId }) {
  return html`<div class="stat" data-testid=${testId}>
    <div class="stat-label">${label}</div>
    <div class="stat-value">${value}</div>
    ${sub && html`<div class="stat-sub">${sub}</div>`}
  </div>`;
}

/**
 * A named config object edited as JSON (providers and routes nest, so JSON is the honest editor):
 * `save(name, settings)` writes it, and the API's own messages are shown as they come. The name is fixed
 * once the object exists.
 */
export function NamedJsonForm({
  save,
  testId,
  nameHint,
  settingsHint,
  template,
  what,
  initial,
  onSaved,
  onCancel,
}) {
  const settingsOf = ({ name: _name, ...settings }) => settings;
  const [name, setName] = useState(initial?.name ?? "");
  const [text, setText] = useState(JSON.stringify(initial ? settingsOf(initial) : template, null, 2));
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const parsed = parseJsonInput(text);
    if (parsed.error) return setError(parsed.error);
    try {
      onSaved(await save(name.trim(), parsed.value));
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card form" onSubmit=${submit} data-testid=${testId}>
    <${Field} label="Name" hint=${nameHint}
      ><input
        name="name"
        value=${name}
        disabled=${Boolean(initial)}
        onInput=${(e) => setName(e.currentTarget.value)}
        required
    /><//>
    <${Field} label="Settings (JSON)" hint=${settingsHint}
      ><${JsonEditor} name="settings" value=${text} onInput=${setText}
    /><//>
    <div class="actions">
      <button type="submit">${initial ? "Save" : `Create ${what}`}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}
