// The palette: node types from GET /api/v1/node-types, grouped by category, searchable, dragged onto the canvas.
import { useMemo, useState } from "react";
import type { NodeType } from "../types";
import { DRAG_MIME } from "./Canvas";
import { CategoryIcon } from "./nodes";

const ORDER = ["event", "connector", "edi", "transform", "branch", "control"];

export function Palette({ types, onAdd }: { types: NodeType[]; onAdd: (type: string) => void }) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const hit = types.filter((t) => !q || `${t.title} ${t.type} ${t.description}`.toLowerCase().includes(q));
    const cats = [...new Set([...ORDER, ...hit.map((t) => t.category)])];
    return cats.map((c) => [c, hit.filter((t) => t.category === c)] as const).filter(([, list]) => list.length);
  }, [types, query]);

  return (
    <aside className="palette" data-testid="palette">
      <input className="search" type="search" placeholder="Search nodes…" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="palette-search" />
      <div className="palette-groups">
        {groups.map(([cat, list]) => (
          <section key={cat}>
            <h4>{cat}</h4>
            {list.map((t) => (
              <div
                key={t.type}
                className={`palette-item cat-${cat}`}
                draggable
                data-type={t.type}
                title={`${t.description}\n\nDrag onto the canvas, or double-click (Enter) to add.`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, t.type);
                  e.dataTransfer.effectAllowed = "copy";
                }}
                onDoubleClick={() => onAdd(t.type)}
                tabIndex={0}
                role="button"
                aria-label={`Add ${t.title}`}
                onKeyDown={(e) => {
                  if (e.key === "Enter" || e.key === " ") {
                    e.preventDefault();
                    onAdd(t.type);
                  }
                }}
              >
                <CategoryIcon category={cat} />
                <span className="palette-text">
                  <span className="palette-title">{t.title}</span>
                  <span className="palette-type">{t.type}</span>
                </span>
              </div>
            ))}
          </section>
        ))}
        {groups.length === 0 && <p className="hint pad">No node type matches “{query}”.</p>}
      </div>
    </aside>
  );
}
