// The mapper's left side: the fields a mapping reads (the node's input), each draggable onto a target field,
// or picked by click or Enter and then placed by clicking a target (the keyboard way to map).
import { useState } from "react";
import { valueAt, type FieldNode } from "./fieldTree";

/** The drag payload's type: a source field's path. */
export const FIELD_MIME = "application/x-crossdock-field";

interface Props {
  tree: FieldNode | null;
  /** The first sample's input, to show a value beside each field. */
  sample: unknown;
  picked: string | null;
  onPick: (path: string | null) => void;
  onDragStart: (path: string) => void;
  disabled: boolean;
}

function brief(v: unknown): string {
  if (v === undefined) return "";
  const text = JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function SourceRow({ node, depth, props }: { node: FieldNode; depth: number; props: Props }) {
  const [open, setOpen] = useState(depth < 2);
  const branch = node.children.length > 0;
  const picked = props.picked === node.path;
  const value = branch ? undefined : valueAt(props.sample, node.path);
  return (
    <li>
      <div
        className={`mp-row mp-source${picked ? " picked" : ""}`}
        style={{ paddingLeft: 6 + depth * 14 }}
        data-testid="source-field"
        data-path={node.path}
        role="button"
        tabIndex={props.disabled ? -1 : 0}
        aria-pressed={picked}
        draggable={!props.disabled}
        title={node.description || node.path}
        onDragStart={(e) => {
          e.dataTransfer.setData(FIELD_MIME, node.path);
          e.dataTransfer.setData("text/plain", node.path);
          e.dataTransfer.effectAllowed = "link";
          props.onDragStart(node.path);
        }}
        onClick={() => !props.disabled && props.onPick(picked ? null : node.path)}
        onKeyDown={(e) => {
          if (props.disabled) return;
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            props.onPick(picked ? null : node.path);
          } else if (branch && (e.key === "ArrowRight" || e.key === "ArrowLeft")) setOpen(e.key === "ArrowRight");
        }}
      >
        {branch ? (
          <span className="mp-twist" onClick={(e) => { e.stopPropagation(); setOpen(!open); }}>{open ? "▾" : "▸"}</span>
        ) : (
          <span className="mp-twist" />
        )}
        <span className="mp-name">{node.name}{node.type === "array" ? "[ ]" : ""}</span>
        <span className="mp-type">{node.type}</span>
        {value !== undefined && <span className="mp-sample mono">{brief(value)}</span>}
      </div>
      {branch && open && (
        <ul className="mp-tree">
          {node.children.map((c) => <SourceRow key={c.path} node={c} depth={depth + 1} props={props} />)}
        </ul>
      )}
    </li>
  );
}

export function SourceTree(props: Props) {
  return (
    <section className="mp-pane mp-sources" data-testid="source-tree">
      <div className="mp-pane-head">
        <span>Source</span>
        <span className="spacer" />
        {props.picked && (
          <span className="hint" data-testid="source-picked">
            <code>{props.picked}</code>: click a target field
          </span>
        )}
      </div>
      {props.tree && props.tree.children.length ? (
        <ul className="mp-tree mp-scroll">
          {props.tree.children.map((c) => <SourceRow key={c.path} node={c} depth={0} props={props} />)}
        </ul>
      ) : (
        <p className="hint pad">No input fields known: save a sample for this flow, or run it once.</p>
      )}
    </section>
  );
}
