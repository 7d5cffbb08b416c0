import { useState } from "preact/hooks";
import { api, fmt, recentCalls } from "../api.js";
import { ErrorBox, Field, Table, html, useLoad } from "../components.js";

const FILTERS = ["key", "team", "provider", "model", "status", "from", "to"];
const PAGE = 50;

const COLUMNS = [
  { label: "Time (UTC)", render: (c) => fmt.time(c.time) },
  {
    label: "Status",
    render: (c) => html`<span class=${`badge ${c.status >= 400 ? "disabled" : "active"}`}>${c.status}</span>`,
  },
  { label: "Key", render: (c) => c.keyName ?? c.keyId ?? "–" },
  { label: "Team", render: (c) => c.team ?? "–" },
  { label: "Provider / model", render: (c) => `${c.provider ?? "?"}/${c.model ?? "?"}` },
  { label: "Tokens in", num: true, render: (c) => fmt.int(c.inputTokens) },
  { label: "Tokens out", num: true, render: (c) => fmt.int(c.outputTokens) },
  { label: "Cost", num: true, render: (c) => fmt.usd(c.costUsd) },
  { label: "Latency", num: true, render: (c) => fmt.ms(c.durationMs) },
  { label: "First byte", num: true, render: (c) => fmt.ms(c.firstByteMs) },
  { label: "Request id", render: (c) => html`<code class="muted">${c.requestId}</code>` },
];

/** `<input type=datetime-local>` is local time without a zone; the API takes ISO 8601. */
const isoOf = (local) => (local ? new Date(local).toISOString() : "");

export function Calls() {
  const [draft, setDraft] = useState(Object.fromEntries(FILTERS.map((f) => [f, ""])));
  const [filters, setFilters] = useState(draft);
  const [more, setMore] = useState({ calls: [], cursor: null });
  const [moreError, setMoreError] = useState(null);
  const keys = useLoad(() => api("GET", "/admin/keys"));
  const params = { ...filters, from: isoOf(filters.from), to: isoOf(filters.to), limit: PAGE };
  const page = useLoad(async () => {
    setMore({ calls: [], cursor: null });
    return recentCalls(params);
  }, [JSON.stringify(filters)]);

  const set = (k) => (e) => setDraft({ ...draft, [k]: e.currentTarget.value });
  const loadMore = async () => {
    setMoreError(null);
    try {
      const cursor = more.cursor ?? page.data?.nextCursor;
      const res = await recentCalls({ ...params, cursor });
      setMore({
        calls: [...more.calls, ...(res?.calls ?? [])],
        cursor: res?.nextCursor ?? null,
        done: !res?.nextCursor,
      });
    } catch (err) {
      setMoreError(err);
    }
  };

  if (page.data === null && !page.loading) {
    return html`<p class="empty" data-testid="calls-unavailable">
      This gateway has no call log: <code>GET /admin/calls</code> answered 404.
    </p>`;
  }
  const rows = [...(page.data?.calls ?? []), ...more.calls];
  const hasMore = more.done ? false : Boolean(more.cursor ?? page.data?.nextCursor);
  return html`<div>
    <form
      class="card form filters"
      onSubmit=${(e) => {
        e.preventDefault();
        setFilters(draft);
      }}
    >
      <div class="row">
        <${Field} label="Key">
          <select name="key" value=${draft.key} onChange=${set("key")}>
            <option value="">(any)</option>
            ${(keys.data?.data ?? []).map((k) => html`<option value=${k.id}>${k.name}</option>`)}
          </select>
        <//>
        <${Field} label="Team"><input name="team" value=${draft.team} onInput=${set("team")} /><//>
        <${Field} label="Provider"
          ><input name="provider" value=${draft.provider} onInput=${set("provider")}
        /><//>
        <${Field} label="Model"><input name="model" value=${draft.model} onInput=${set("model")} /><//>
        <${Field} label="Status"
          ><input name="status" value=${draft.status} onInput=${set("status")} placeholder="e.g. 429"
        /><//>
        <${Field} label="From"
          ><input type="datetime-local" name="from" value=${draft.from} onInput=${set("from")}
        /><//>
        <${Field} label="To"
          ><input type="datetime-local" name="to" value=${draft.to} onInput=${set("to")}
        /><//>
      </div>
      <div class="actions"><button type="submit">Filter</button></div>
    </form>
    <${ErrorBox} error=${page.error ?? moreError} />
    <${Table}
      testId="calls-table"
      columns=${COLUMNS}
      rows=${rows}
      empty=${page.loading ? "Loading…" : "No calls match."}
    />
    ${hasMore && html`<div class="actions"><button class="secondary" onClick=${loadMore}>Load more</button></div>`}
  </div>`;
}
