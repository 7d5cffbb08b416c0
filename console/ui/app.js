import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, session, whenSignedOut } from "./api.js";
import { ErrorBox, html } from "./components.js";
import { Calls } from "./pages/calls.js";
import { Keys } from "./pages/keys.js";
import { Overview } from "./pages/overview.js";
import { Providers } from "./pages/providers.js";
import { RoutesPage } from "./pages/routes.js";
import { Teams } from "./pages/teams.js";
import { Usage } from "./pages/usage.js";

/** Pages by hash (`#/keys`): the console is one HTML file, so no server-side fallback is needed. */
const PAGES = [
  ["overview", "Overview", Overview],
  ["keys", "Keys", Keys],
  ["teams", "Teams", Teams],
  ["providers", "Providers", Providers],
  ["routes", "Routes", RoutesPage],
  ["usage", "Usage", Usage],
  ["calls", "Calls", Calls],
];

const currentPage = () => location.hash.replace(/^#\/?/, "") || "overview";

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(token.trim());
    try {
      await api("GET", "/admin/teams");
      onSignedIn();
    } catch (err) {
      session.signOut();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form onSubmit=${submit} class="card">
      <h1>Bricklane</h1>
      <p>Sign in with the gateway's admin token. It is kept in this tab only.</p>
      <label class="field"
        ><span>Admin token</span
        ><input
          type="password"
          name="token"
          autocomplete="off"
          value=${token}
          onInput=${(e) => setToken(e.currentTarget.value)}
          required
      /></label>
      <button type="submit" disabled=${busy}>Sign in</button>
      <${ErrorBox} error=${error} />
    </form>
  </main>`;
}

function Shell({ onSignOut }) {
  const [page, setPage] = useState(currentPage());
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const found = PAGES.find(([id]) => id === page) ?? PAGES[0];
  const [id, title, Page] = found;
  return html`<div class="shell">
    <nav>
      <div class="brand">Bricklane</div>
      ${PAGES.map(([pid, label]) => html`<a href=${`#/${pid}`} class=${pid === id ? "active" : ""}>${label}</a>`)}
      <div class="spacer"></div>
      <a href="/docs" target="_blank" rel="noopener">API docs</a>
      <button class="link" onClick=${onSignOut}>Sign out</button>
    </nav>
    <main>
      <h1>${title}</h1>
      <${Page} key=${id} />
    </main>
  </div>`;
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(session.token()));
  useEffect(() => whenSignedOut(() => setSignedIn(false)), []);
  if (!signedIn) return html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
  return html`<${Shell}
    onSignOut=${() => {
      session.signOut();
      setSignedIn(false);
    }}
  />`;
}

const root = document.getElementById("app");
// The boot message is static HTML; Preact renders beside existing children, so clear them first.
root.textContent = "";
render(html`<${App} />`, root);
