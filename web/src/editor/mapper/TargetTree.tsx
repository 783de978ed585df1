// The mapper's right side: the fields a mapping produces, each with its rule and, per saved sample, the value
// the mapping gives it now; a value that differs from the deployed version's output is highlighted.
import { useState } from "react";
import type { SamplePreview } from "../../api";
import { valueAt, type FieldNode } from "./fieldTree";
import { arrayOf, describe, ruleOf, targetRef, type Mapping } from "./mapping";
import { FIELD_MIME } from "./SourceTree";

/** A target path as the preview's `differs` names it, without element indexes ("lines[0].sku" -> "lines.sku"). */
function plain(path: string): string {
  return path.replace(/\[\d*\]/g, "");
}

function brief(v: unknown): string {
  if (v === undefined) return "—";
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

interface Props {
  tree: FieldNode | null;
  mapping: Mapping;
  results: SamplePreview[];
  selected: string | null;
  picked: string | null;
  disabled: boolean;
  onSelect: (path: string) => void;
  /** A source field dropped (or placed) onto a target path. */
  onMap: (targetPath: string, sourcePath: string) => void;
}

function Cells({ path, results }: { path: string; results: SamplePreview[] }) {
  const key = plain(path);
  return (
    <>
      {results.map((r, i) => {
        // compared only where the deployed version gave an output for the sample
        const differs = r.deployed_output != null && r.differs.some((d) => plain(d) === key);
        const value = r.error ? undefined : valueAt(r.output, path);
        const title = differs ? `deployed: ${JSON.stringify(valueAt(r.deployed_output, path))}` : r.error ? r.error.message : undefined;
        return (
          <span
            key={i}
            className={`mp-cell mono${differs ? " differs" : ""}${r.error ? " failed" : ""}`}
            data-testid="preview-cell"
            data-sample={i}
            data-differs={differs ? "true" : "false"}
            title={title}
          >
            {r.error ? "error" : brief(value)}
          </span>
        );
      })}
    </>
  );
}

function TargetRow({ node, depth, props }: { node: FieldNode; depth: number; props: Props }) {
  const [open, setOpen] = useState(depth < 2 || node.type === "array");
  const [over, setOver] = useState(false);
  const branch = node.children.length > 0;
  const ref = targetRef(node.path);
  const isArray = node.type === "array" && ref?.array === null; // a list mapped element by element
  const mappable = !props.disabled && ref !== null && (!branch || isArray);
  const rule = ref && (!branch || isArray) ? ruleOf(props.mapping, ref) : null; // a list may be copied whole
  const feed = isArray ? arrayOf(props.mapping, node.path) : null;
  const selected = props.selected === node.path;
  // a required field left empty where its record is written (top level, or inside a list that is mapped)
  const missing = node.required && !branch && !isArray && !rule && ref !== null && (ref.array === null || !!arrayOf(props.mapping, ref.array));
  const classes = ["mp-row", "mp-target", selected && "selected", over && "over", rule && "mapped", node.required && "required", missing && "missing"];
  return (
    <li>
      <div
        className={classes.filter(Boolean).join(" ")}
        data-testid="target-field"
        data-path={node.path}
        data-mapped={rule || feed ? "true" : "false"}
        role="button"
        tabIndex={ref ? 0 : -1}
        title={node.description || node.path}
        onClick={() => {
          if (!ref) return;
          if (props.picked && mappable) props.onMap(node.path, props.picked);
          else props.onSelect(node.path);
        }}
        onKeyDown={(e) => {
          if (e.key !== "Enter" || !ref) return;
          e.preventDefault();
          if (props.picked && mappable) props.onMap(node.path, props.picked);
          else props.onSelect(node.path);
        }}
        onDragOver={(e) => {
          if (!mappable) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = "link";
          if (!over) setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          setOver(false);
          if (!mappable) return;
          e.preventDefault();
          const source = e.dataTransfer.getData(FIELD_MIME) || e.dataTransfer.getData("text/plain");
          if (source) props.onMap(node.path, source);
        }}
      >
        <span className="mp-label" style={{ paddingLeft: depth * 14 }}>
          {branch ? (
            <span className="mp-twist" onClick={(e) => { e.stopPropagation(); setOpen(!open); }}>{open ? "▾" : "▸"}</span>
          ) : (
            <span className="mp-twist" />
          )}
          <span className="mp-name">{node.name}{isArray ? "[ ]" : ""}{node.required && <span className="mp-req" title="required">*</span>}</span>
          <span className="mp-type">{node.type}</span>
        </span>
        <span className="mp-rule mono" data-testid="target-rule">
          {rule ? describe(rule) : feed ? `each of ${feed.source}` : isArray ? "drop a source list here" : missing ? "required: not mapped" : ref ? "" : "edit in JSONata"}
        </span>
        {((!branch && !isArray) || rule) && <Cells path={node.path} results={props.results} />}
      </div>
      {branch && open && (
        <ul className="mp-tree">
          {node.children.map((c) => <TargetRow key={c.path} node={c} depth={depth + 1} props={props} />)}
        </ul>
      )}
    </li>
  );
}

export function TargetTree(props: Props) {
  return (
    <section className="mp-pane mp-targets" data-testid="target-tree">
      <div className="mp-row mp-target mp-pane-head">
        <span className="mp-label">Target</span>
        <span className="mp-rule">Rule</span>
        {props.results.map((r, i) => (
          <span key={i} className="mp-cell" data-testid="preview-sample" title={String(r.sample)}>
            {String(r.sample)}
          </span>
        ))}
      </div>
      {props.tree && props.tree.children.length ? (
        <ul className="mp-tree mp-scroll">
          {props.tree.children.map((c) => <TargetRow key={c.path} node={c} depth={0} props={props} />)}
        </ul>
      ) : (
        <p className="hint pad">No target fields known: add one below, or pick a schema for this node.</p>
      )}
    </section>
  );
}
