// Entry: loads the node catalogue once and routes between the flow list and the editor.
import { StrictMode, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/base.css";
import "./styles.css";
import { api } from "./api";
import { Editor } from "./editor/Editor";
import { FlowList } from "./pages/FlowList";
import { hrefFor } from "./pages/AppNav";
import { Monitor } from "./pages/Monitor";
import { RunInspector } from "./pages/RunInspector";
import { RunList } from "./pages/RunList";
import { Templates } from "./pages/Templates";
import type { NodeType } from "./types";

type Route = { page: "list" | "runs" | "templates" } | { page: "editor" | "monitor" | "run"; id: string };

function route(path: string): Route {
  const m = path.match(/^\/(flows|monitor|runs)\/([^/]+)\/?$/);
  if (m) return { page: m[1] === "flows" ? "editor" : m[1] === "monitor" ? "monitor" : "run", id: decodeURIComponent(m[2]) };
  if (/^\/runs\/?$/.test(path)) return { page: "runs" };
  if (/^\/templates\/?$/.test(path)) return { page: "templates" };
  return { page: "list" };
}

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

  if (error) return <div className="page-message">{error}</div>;
  if (!types) return <div className="page-message">Loading…</div>;
  const r = route(path);
  switch (r.page) {
    case "editor":
      return <Editor key={r.id} flowId={r.id} nodeTypes={types} navigate={navigate} />;
    case "monitor":
      return <Monitor key={r.id} flowId={r.id} nodeTypes={types} navigate={navigate} />;
    case "run":
      return <RunInspector key={r.id} runId={r.id} nodeTypes={types} navigate={navigate} />;
    case "runs":
      return <RunList key={location.search} navigate={navigate} />;
    case "templates":
      return <Templates navigate={navigate} />;
    default:
      return <FlowList navigate={navigate} />;
  }
}

const first = route(location.pathname);
if (first.page === "editor") api.prefetchFlow(first.id);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
