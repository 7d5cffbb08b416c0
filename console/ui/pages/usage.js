import { useState } from "preact/hooks";
import { api, dayBefore, downloadCsv, fmt, query } from "../api.js";
import { ChartView, ErrorBox, Field, PALETTE, Table, html, useLoad } from "../components.js";

const COLUMNS = [
  "day",
  "provider",
  "model",
  "requests",
  "inputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "outputTokens",
  "reasoningTokens",
  "costUsd",
  "errors",
];
const METRICS = { requests: "Calls", tokens: "Tokens", costUsd: "Cost (USD)" };

function summary(t) {
  const calls = `${fmt.int(t.requests)} ${t.requests === 1 ? "call" : "calls"}`;
  return `${calls} · ${fmt.int(t.inputTokens + t.outputTokens)} tokens · ${fmt.usd(t.costUsd)} · ${fmt.int(t.errors)} errors`;
}

const valueOf = (r, metric) => (metric === "tokens" ? r.inputTokens + r.outputTokens : r[metric]);

/** Days from `from` to `to`, inclusive. */
function daysBetween(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export function Usage() {
  const [scope, setScope] = useState({ kind: "all", name: "" });
  const [range, setRange] = useState({ from: dayBefore(29), to: dayBefore(0) });
  const [metric, setMetric] = useState("requests");
  const options = useLoad(async () => {
    const [keys, teams, providers] = await Promise.all([
      api("GET", "/admin/keys"),
      api("GET", "/admin/teams"),
      api("GET", "/admin/providers"),
    ]);
    return {
      key: keys.data.map((k) => ({ value: k.id, label: `${k.name} (${k.id})` })),
      team: teams.data.map((t) => ({ value: t.name, label: t.name })),
      provider: providers.data.map((p) => ({ value: p.name, label: p.name })),
    };
  });
  const usage = useLoad(
    () =>
      api(
        "GET",
        `/admin/usage${query({ ...(scope.kind !== "all" && scope.name && { [scope.kind]: scope.name }), ...range })}`,
      ),
    [scope.kind, scope.name, range.from, range.to],
  );

  const rows = usage.data?.data ?? [];
  const days = usage.data ? daysBetween(usage.data.from, usage.data.to) : [];
  const series = [...new Set(rows.map((r) => `${r.provider}/${r.model}`))];
  const datasets = series.map((id, i) => ({
    label: id,
    backgroundColor: PALETTE[i % PALETTE.length],
    data: days.map((d) =>
      rows
        .filter((r) => r.day === d && `${r.provider}/${r.model}` === id)
        .reduce((n, r) => n + valueOf(r, metric), 0),
    ),
  }));
  const scopeLabel = scope.kind === "all" ? "all" : `${scope.kind}-${scope.name}`;

  return html`<div>
    <form class="card form filters" onSubmit=${(e) => e.preventDefault()}>
      <div class="row">
        <${Field} label="Scope">
          <select
            name="scope"
            value=${scope.kind}
            onChange=${(e) => setScope({ kind: e.currentTarget.value, name: "" })}
          >
            <option value="all">Whole gateway</option>
            <option value="key">Key</option>
            <option value="team">Team</option>
            <option value="provider">Provider</option>
          </select>
        <//>
        ${
          scope.kind !== "all" &&
          html`<${Field} label=${scope.kind[0].toUpperCase() + scope.kind.slice(1)}>
            <select
              name="scopeName"
              value=${scope.name}
              onChange=${(e) => setScope({ ...scope, name: e.currentTarget.value })}
            >
              <option value="">(choose)</option>
              ${(options.data?.[scope.kind] ?? []).map((o) => html`<option value=${o.value}>${o.label}</option>`)}
            </select>
          <//>`
        }
        <${Field} label="From"
          ><input
            type="date"
            name="from"
            value=${range.from}
            onChange=${(e) => setRange({ ...range, from: e.currentTarget.value })}
        /><//>
        <${Field} label="To"
          ><input
            type="date"
            name="to"
            value=${range.to}
            onChange=${(e) => setRange({ ...range, to: e.currentTarget.value })}
        /><//>
        <${Field} label="Chart">
          <select name="metric" value=${metric} onChange=${(e) => setMetric(e.currentTarget.value)}>
            ${Object.entries(METRICS).map(([v, l]) => html`<option value=${v}>${l}</option>`)}
          </select>
        <//>
      </div>
    </form>
    ${
      scope.kind !== "all" && !scope.name
        ? html`<p class="empty">Choose a ${scope.kind}.</p>`
        : html`<${ErrorBox} error=${usage.error} /> ${
              usage.data &&
              html`<section class="card">
                  <h2>${METRICS[metric]} per day, by model</h2>
                  <${ChartView}
                    label="usage per day"
                    labels=${days.map((d) => d.slice(5))}
                    datasets=${datasets}
                    stacked=${true}
                    height=${260}
                  />
                </section>
                <section class="card">
                  <div class="toolbar">
                    <h2>${summary(usage.data.total)}</h2>
                    <button
                      type="button"
                      data-testid="usage-csv"
                      onClick=${() => downloadCsv(`usage-${scopeLabel}-${usage.data.from}-${usage.data.to}.csv`, COLUMNS, rows)}
                    >
                      Download CSV
                    </button>
                  </div>
                  <${Table}
                    testId="usage-table"
                    rows=${rows}
                    empty="No usage in this range."
                    columns=${[
                      { label: "Day", key: "day" },
                      { label: "Provider", key: "provider" },
                      { label: "Model", key: "model" },
                      { label: "Calls", num: true, render: (r) => fmt.int(r.requests) },
                      { label: "Input tokens", num: true, render: (r) => fmt.int(r.inputTokens) },
                      { label: "of which cache reads", num: true, render: (r) => fmt.int(r.cacheReadTokens) },
                      { label: "cache writes", num: true, render: (r) => fmt.int(r.cacheWriteTokens) },
                      { label: "Output tokens", num: true, render: (r) => fmt.int(r.outputTokens) },
                      { label: "of which reasoning", num: true, render: (r) => fmt.int(r.reasoningTokens) },
                      { label: "Cost", num: true, render: (r) => fmt.usd(r.costUsd) },
                      { label: "Errors", num: true, render: (r) => fmt.int(r.errors) },
                    ]}
                  />
                </section>`
            }`
    }
  </div>`;
}
