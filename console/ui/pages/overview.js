import { api, dayBefore, fmt, query, recentCalls } from "../api.js";
import { ChartView, ErrorBox, PALETTE, Stat, Table, html, useLoad } from "../components.js";

const DAY_MS = 86_400_000;
/** How many keys and teams the top lists ask usage for (one request each). */
const TOP_SCAN = 50;

const sum = (rows, f) => rows.reduce((n, r) => n + (f(r) ?? 0), 0);
const tokensOf = (r) => (r.inputTokens ?? 0) + (r.outputTokens ?? 0);

/** Calls, tokens, cost and errors per day over the last 7 days, from the gateway's usage totals. */
async function lastWeek() {
  const from = dayBefore(6);
  const to = dayBefore(0);
  const usage = await api("GET", `/admin/usage${query({ from, to })}`);
  const days = Array.from({ length: 7 }, (_, i) => dayBefore(6 - i));
  const perDay = days.map((day) => {
    const rows = usage.data.filter((r) => r.day === day);
    return {
      day,
      requests: sum(rows, (r) => r.requests),
      errors: sum(rows, (r) => r.errors),
      tokens: sum(rows, tokensOf),
      costUsd: sum(rows, (r) => r.costUsd),
    };
  });
  return { from, to, total: usage.total, rows: usage.data, perDay };
}

/** The last 24 hours by hour, from the call log; null where the gateway has none. */
async function lastDay() {
  const since = Date.now() - DAY_MS;
  const res = await recentCalls(
    { limit: 200 },
    { keep: (c) => new Date(c.time).getTime() >= since, maxPages: 10 },
  );
  if (!res) return null;
  const calls = res.calls.filter((c) => new Date(c.time).getTime() >= since);
  const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const hours = Array.from({ length: 24 }, (_, i) => hourStart - (23 - i) * 3_600_000);
  const perHour = hours.map((h) => {
    const inHour = calls.filter((c) => {
      const t = new Date(c.time).getTime();
      return t >= h && t < h + 3_600_000;
    });
    return {
      label: new Date(h).toISOString().slice(11, 16),
      requests: inHour.length,
      errors: inHour.filter((c) => c.status >= 400).length,
      tokens: sum(inHour, tokensOf),
      costUsd: sum(inHour, (c) => c.costUsd),
    };
  });
  return {
    calls: calls.length,
    errors: calls.filter((c) => c.status >= 400).length,
    tokens: sum(calls, tokensOf),
    costUsd: sum(calls, (c) => c.costUsd),
    perHour,
    truncated: Boolean(res.nextCursor) && calls.length === res.calls.length,
  };
}

/** The 7-day totals of each key and team, biggest first. */
async function tops(from, to) {
  const [keys, teams] = await Promise.all([api("GET", "/admin/keys"), api("GET", "/admin/teams")]);
  const usageOf = async (param, value) =>
    (await api("GET", `/admin/usage${query({ [param]: value, from, to })}`)).total;
  const keyRows = await Promise.all(
    keys.data
      .slice(0, TOP_SCAN)
      .map(async (k) => ({ id: k.id, name: k.name, ...(await usageOf("key", k.id)) })),
  );
  const teamRows = await Promise.all(
    teams.data
      .slice(0, TOP_SCAN)
      .map(async (t) => ({ id: t.name, name: t.name, ...(await usageOf("team", t.name)) })),
  );
  const top = (rows) =>
    rows
      .filter((r) => r.requests > 0)
      .sort((a, b) => b.requests - a.requests)
      .slice(0, 5);
  return { keys: top(keyRows), teams: top(teamRows) };
}

function topModels(rows) {
  const by = new Map();
  for (const r of rows) {
    const id = `${r.provider}/${r.model}`;
    const m = by.get(id) ?? {
      id,
      name: id,
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      errors: 0,
    };
    m.requests += r.requests;
    m.inputTokens += r.inputTokens;
    m.outputTokens += r.outputTokens;
    m.costUsd += r.costUsd;
    m.errors += r.errors;
    by.set(id, m);
  }
  return [...by.values()].sort((a, b) => b.requests - a.requests).slice(0, 5);
}

const TOP_COLUMNS = [
  { label: "Name", key: "name" },
  { label: "Calls", num: true, render: (r) => fmt.int(r.requests) },
  { label: "Tokens", num: true, render: (r) => fmt.int(tokensOf(r)) },
  { label: "Cost", num: true, render: (r) => fmt.usd(r.costUsd) },
];

function Period({ title, calls, errors, tokens, costUsd, testId }) {
  return html`<section class="card" data-testid=${testId}>
    <h2>${title}</h2>
    <div class="stats">
      <${Stat} label="Calls" value=${fmt.int(calls)} testId=${`${testId}-calls`} />
      <${Stat} label="Tokens" value=${fmt.int(tokens)} />
      <${Stat} label="Cost" value=${fmt.usd(costUsd)} />
      <${Stat}
        label="Error rate"
        value=${calls ? fmt.pct(errors / calls) : "–"}
        sub=${`${fmt.int(errors)} errors`}
      />
    </div>
  </section>`;
}

function Trend({ title, labels, points }) {
  return html`<section class="card">
    <h2>${title}</h2>
    <div class="charts">
      <${ChartView}
        label=${`${title}: calls`}
        labels=${labels}
        stacked=${true}
        datasets=${[
          { label: "OK", data: points.map((p) => p.requests - p.errors), backgroundColor: PALETTE[1] },
          { label: "Errors", data: points.map((p) => p.errors), backgroundColor: PALETTE[3] },
        ]}
      />
      <${ChartView}
        type="line"
        label=${`${title}: tokens`}
        labels=${labels}
        datasets=${[{ label: "Tokens", data: points.map((p) => p.tokens), borderColor: PALETTE[0], backgroundColor: PALETTE[0] }]}
      />
      <${ChartView}
        label=${`${title}: cost`}
        labels=${labels}
        datasets=${[{ label: "Cost (USD)", data: points.map((p) => p.costUsd), backgroundColor: PALETTE[2] }]}
      />
    </div>
  </section>`;
}

export function Overview() {
  const week = useLoad(lastWeek);
  const day = useLoad(lastDay);
  const top = useLoad(() => tops(dayBefore(6), dayBefore(0)));
  if (week.error) return html`<${ErrorBox} error=${week.error} />`;
  if (week.loading && !week.data) return html`<p>Loading…</p>`;
  const w = week.data;
  return html`<div class="overview">
    <div class="grid2">
      ${
        day.data
          ? html`<${Period} title="Last 24 hours" testId="last-24h" ...${day.data} />`
          : html`<section class="card" data-testid="last-24h">
              <h2>Last 24 hours</h2>
              <p class="empty">
                ${day.loading ? "Loading…" : day.error ? day.error.message : "The hourly view needs the call log (GET /admin/calls), which this gateway does not have."}
              </p>
            </section>`
      }
      <${Period}
        title="Last 7 days"
        testId="last-7d"
        calls=${w.total.requests}
        errors=${w.total.errors}
        tokens=${w.total.inputTokens + w.total.outputTokens}
        costUsd=${w.total.costUsd}
      />
    </div>
    ${day.data && html`<${Trend} title="Last 24 hours, by hour (UTC)" labels=${day.data.perHour.map((p) => p.label)} points=${day.data.perHour} />`}
    ${day.data?.truncated && html`<p class="hint">The hourly view shows the newest 2,000 calls.</p>`}
    <${Trend}
      title="Last 7 days, by day (UTC)"
      labels=${w.perDay.map((p) => p.day.slice(5))}
      points=${w.perDay}
    />
    <div class="grid3">
      <section class="card">
        <h2>Top keys (7 days)</h2>
        ${top.error ? html`<${ErrorBox} error=${top.error} />` : html`<${Table} testId="top-keys" columns=${TOP_COLUMNS} rows=${top.data?.keys} empty=${top.loading ? "Loading…" : "No calls yet."} />`}
      </section>
      <section class="card">
        <h2>Top teams (7 days)</h2>
        ${top.error ? html`<${ErrorBox} error=${top.error} />` : html`<${Table} testId="top-teams" columns=${TOP_COLUMNS} rows=${top.data?.teams} empty=${top.loading ? "Loading…" : "No calls yet."} />`}
      </section>
      <section class="card">
        <h2>Top models (7 days)</h2>
        <${Table}
          testId="top-models"
          columns=${TOP_COLUMNS}
          rows=${topModels(w.rows)}
          empty="No calls yet."
        />
      </section>
    </div>
  </div>`;
}
