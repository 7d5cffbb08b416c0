import { useState } from "preact/hooks";
import { api } from "../api.js";
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

function TeamForm({ initial, isNew, onSaved, onCancel }) {
  const [name, setName] = useState(initial?.name ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [limits, setLimits] = useState(limitsForm(initial?.limits));
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { description: description.trim() || undefined, limits: limitsFromForm(limits) };
      onSaved(await api("PUT", `/admin/teams/${encodeURIComponent(name.trim())}`, body));
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card form" onSubmit=${submit} data-testid="team-form">
    <div class="row">
      <${Field} label="Name"
        ><input
          name="name"
          value=${name}
          disabled=${!isNew}
          onInput=${(e) => setName(e.currentTarget.value)}
          required
      /><//>
      <${Field} label="Description"
        ><input
          name="description"
          value=${description}
          onInput=${(e) => setDescription(e.currentTarget.value)}
      /><//>
    </div>
    <${LimitsFields} value=${limits} onChange=${setLimits} />
    <div class="actions">
      <button type="submit">${isNew ? "Create team" : "Save"}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}

export function Teams() {
  const teams = useLoad(() => api("GET", "/admin/teams"));
  const [mode, setMode] = useState(null);
  const [saved, setSaved] = useState(null);
  const [error, setError] = useState(null);
  const remove = async (name) => {
    setError(null);
    if (!confirm(`Delete team '${name}'?`)) return;
    try {
      await api("DELETE", `/admin/teams/${encodeURIComponent(name)}`);
      teams.reload();
    } catch (err) {
      setError(err);
    }
  };
  const columns = [
    { label: "Name", render: (t) => html`<strong>${t.name}</strong>` },
    { label: "Description", render: (t) => t.description ?? "–" },
    { label: "Limits", render: (t) => describeLimits(t.limits) },
    {
      label: "",
      render: (t) =>
        html`<div class="row-actions">
          <button class="small secondary" onClick=${() => setMode({ edit: t })}>Edit</button>
          <button class="small danger" onClick=${() => remove(t.name)}>Delete</button>
        </div>`,
    },
  ];
  const onSaved = (res) => {
    setMode(null);
    setSaved(res);
    teams.reload();
  };
  return html`<div>
    <div class="toolbar">
      <button onClick=${() => setMode({ create: true })} data-testid="new-team-button">New team</button>
    </div>
    ${saved && html`<${Warnings} warnings=${saved.warnings} />`}
    ${
      mode &&
      html`<${TeamForm}
        key=${mode.edit?.name ?? "new"}
        initial=${mode.edit}
        isNew=${!mode.edit}
        onSaved=${onSaved}
        onCancel=${() => setMode(null)}
      />`
    }
    <${ErrorBox} error=${error ?? teams.error} />
    <${Table}
      testId="teams-table"
      columns=${columns}
      rows=${teams.data?.data}
      empty=${teams.loading ? "Loading…" : "No teams yet."}
    />
  </div>`;
}
