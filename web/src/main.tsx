// Entry: loads the node catalogue once and routes between the flow list and the editor.
import { StrictMode, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/base.css";
import "./styles.css";
import { api } from "./api";
import { Editor } from "./editor/Editor";
import { FlowList } from "./pages/FlowList";
import type { NodeType } from "./types";

function route(path: string): { page: "list" } | { page: "editor"; id: string } {
  const m = path.match(/^\/flows\/([^/]+)\/?$/);
  return m ? { page: "editor", id: decodeURIComponent(m[1]) } : { page: "list" };
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
    history.pushState(null, "", to + location.search);
    setPath(to);
  }, []);

  if (error) return <div className="page-message">{error}</div>;
  if (!types) return <div className="page-message">Loading…</div>;
  const r = route(path);
  return r.page === "editor" ? <Editor key={r.id} flowId={r.id} nodeTypes={types} navigate={navigate} /> : <FlowList navigate={navigate} />;
}

const first = route(location.pathname);
if (first.page === "editor") api.prefetchFlow(first.id);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
