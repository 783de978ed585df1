// Entry: the login page for /login; every other page first needs the session (else: to the login page), then
// routes.ts picks the page from the path: flows, editor, monitor, runs, run, templates, the admin pages or
// not found. The pages that draw flows wait for the node catalogue; the admin and not-found pages do not.
// The partner's brand is applied before anything is drawn.
import { StrictMode, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/base.css";
import "./styles.css";
import { session, setSession } from "./access";
import { AdminPages } from "./admin";
import { api, ApiError, loginHref, sessionApi } from "./api";
import { loadBrand } from "./brand";
import { Login } from "./pages/Login";
import { Editor } from "./editor/Editor";
import { FlowList } from "./pages/FlowList";
import { hrefFor } from "./pages/AppNav";
import { Monitor } from "./pages/Monitor";
import { NotFound } from "./pages/NotFound";
import { RunInspector } from "./pages/RunInspector";
import { RunList } from "./pages/RunList";
import { Templates } from "./pages/Templates";
import { Threads } from "./pages/Threads";
import { Exceptions } from "./pages/Exceptions";
import { Alerts } from "./pages/Alerts";
import { Reports } from "./pages/Reports";
import { Dashboard } from "./pages/Dashboard";
import { TradingPartners } from "./pages/TradingPartners";
import { Connections } from "./pages/Connections";
import { Lookups } from "./pages/Lookups";
import { match } from "./routes";
import type { NodeType } from "./types";

function App() {
  const [path, setPath] = useState(location.pathname);
  const [types, setTypes] = useState<NodeType[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.nodeTypes().then(setTypes, (e) => setError(`Could not load the node catalogue: ${e.message}`));
    const onPop = () => setPath(location.pathname);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const navigate = useCallback((to: string) => {
    // the workspace travels in the query string; a target with its own query keeps it too
    history.pushState(null, "", hrefFor(to));
    setPath(to.split("?")[0]);
  }, []);

  const r = match(path);
  // the admin pages need no node catalogue: a new partner's admin has no workspace to read one from yet
  if (r.page === "admin") return <AdminPages key={r.id} page={r.id} navigate={navigate} />;
  if (r.page === "not-found") return <NotFound key={path} path={path} navigate={navigate} />;
  if (error) return <div className="page-message">{error}</div>;
  if (!types) return <div className="page-message">Loading…</div>;
  switch (r.page) {
    case "editor":
      return <Editor key={r.id} flowId={r.id} nodeTypes={types} navigate={navigate} />;
    case "monitor":
      return <Monitor key={r.id} flowId={r.id} nodeTypes={types} navigate={navigate} />;
    case "run":
      return <RunInspector key={r.id} runId={r.id} nodeTypes={types} navigate={navigate} />;
    case "runs":
      return <RunList key={location.search} navigate={navigate} />;
    case "threads":
      return <Threads key={location.search} navigate={navigate} />;
    case "exceptions":
      return <Exceptions navigate={navigate} />;
    case "alerts":
      return <Alerts navigate={navigate} />;
    case "reports":
      return <Reports navigate={navigate} />;
    case "dashboard":
      return <Dashboard navigate={navigate} />;
    case "templates":
      return <Templates navigate={navigate} />;
    case "trading-partners":
      return <TradingPartners navigate={navigate} />;
    case "connections":
      return <Connections navigate={navigate} />;
    case "lookups":
      return <Lookups navigate={navigate} />;
    default: // "flows", and "login" reached by the app's own navigation
      return <FlowList navigate={navigate} />;
  }
}

async function start() {
  const root = createRoot(document.getElementById("root")!);
  const first = match(location.pathname);
  if (first.page === "login") {
    await loadBrand(new URLSearchParams(location.search).get("partner"));
    root.render(
      <StrictMode>
        <Login />
      </StrictMode>,
    );
    return;
  }
  const branded = loadBrand(); // the signed-in user's partner: the cookie says who that is
  try {
    const s = await sessionApi.current();
    if (s.user.must_change_password) {
      location.replace(loginHref()); // the login page asks for a password of the user's own first
      return;
    }
    setSession(s);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      location.replace(loginHref());
      return;
    }
    await branded;
    root.render(<div className="page-message">Could not reach the server: {(e as Error).message}</div>);
    return;
  }
  const s = session()!;
  if (!s.user.partner_admin && !s.workspaces.length) {
    await branded;
    root.render(
      <div className="page-message" data-testid="no-workspace">
        <p>You are not a member of any workspace yet: ask your administrator to add you to one.</p>
        <button className="btn" onClick={() => sessionApi.logout().finally(() => location.assign("/login"))}>Sign out</button>
      </div>,
    );
    return;
  }
  if (s.user.partner_admin && !s.workspaces.length && first.page !== "admin") {
    history.replaceState(null, "", "/admin/workspaces"); // a new partner starts by creating its first customer
  }
  if (first.page === "editor") api.prefetchFlow(first.id);
  await branded;
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

start();
