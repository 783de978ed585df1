// Problems from the last validation; clicking one selects the node (or edge) it names.
import type { FlowDoc, Problem } from "../types";

interface Props {
  doc: FlowDoc;
  problems: Problem[];
  checking: boolean;
  onPick: (p: Problem) => void;
  collapsed: boolean;
  onToggle: () => void;
}

export function ProblemsPanel({ doc, problems, checking, onPick, collapsed, onToggle }: Props) {
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  const names = new Map(doc.nodes.map((n) => [n.id, n.name || n.id]));
  return (
    <section className={`problems${collapsed ? " collapsed" : ""}`} data-testid="problems">
      <header onClick={onToggle}>
        <span className="problems-title">Problems</span>
        <span className={`count ${errors ? "bad" : ""}`} data-testid="error-count">{errors} error{errors === 1 ? "" : "s"}</span>
        <span className={`count ${warnings ? "warn" : ""}`}>{warnings} warning{warnings === 1 ? "" : "s"}</span>
        {checking && <span className="hint">checking…</span>}
        <span className="spacer" />
        <span className="hint">{collapsed ? "▲" : "▼"}</span>
      </header>
      {!collapsed && (
        <ul>
          {problems.length === 0 && <li className="ok">No problems found.</li>}
          {problems.map((p, i) => (
            <li key={i} className={`problem ${p.severity}`} onClick={() => onPick(p)} data-node={p.node || ""} data-edge={p.edge || ""} data-code={p.code}>
              <span className="sev">{p.severity === "error" ? "●" : "▲"}</span>
              <span className="where">{p.node ? names.get(p.node) || p.node : p.edge ? `edge ${p.edge}` : "flow"}</span>
              {p.field && <code>{p.field}</code>}
              <span className="msg">{p.message}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
