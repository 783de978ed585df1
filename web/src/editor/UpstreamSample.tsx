// Where the inspector's preview of a node downstream of others takes its input: the upstream nodes' output on a
// saved sample of the flow (POST /flows/<id>/nodes/<node>/preview-samples walks the steps before the node as a
// dry run does), the sample picked by name. The preview started from an empty sample before (issue 13).
import { useEffect, useRef, useState } from "react";
import { api, type SamplePreview } from "../api";
import type { FlowDoc } from "../types";

/** The node a preview stands for, in the document as the editor holds it, and the names of the nodes feeding it. */
export interface Upstream {
  flowId: string;
  nodeId: string;
  field: string;
  document: FlowDoc;
  from: string[];
}

const text = (v: unknown) => JSON.stringify(v, null, 2);

export function UpstreamSample({ upstream, sample, setSample }: { upstream: Upstream; sample: string; setSample: (t: string) => void }) {
  const [results, setResults] = useState<SamplePreview[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const current = useRef(sample);
  current.current = sample;
  const first = useRef(sample); // a sample typed before the answer came is the user's: kept
  const spec = useRef(upstream); // the document when the preview opened: the nodes before this one cannot change while it shows

  useEffect(() => {
    let stale = false;
    const u = spec.current;
    // only the inputs are read here ("$" keeps the work small); the preview below evaluates the field on them
    api.previewSamples(u.flowId, u.nodeId, { document: u.document, expression: "$", field: u.field, limit: 5 }).then(
      (rows) => {
        if (stale) return;
        setResults(rows);
        const usable = rows.find((r) => r.error === null);
        if (usable && current.current === first.current) {
          setPicked(String(usable.sample));
          setSample(text(usable.input));
        }
      },
      (e) => !stale && setFailed((e as Error).message),
    );
    return () => {
      stale = true;
    };
  }, []);

  const from = upstream.from.join(", ");
  if (failed) return <div className="hint" data-testid="sample-source" data-state="failed">No upstream output: {failed}</div>;
  if (results === null) return <div className="hint" data-testid="sample-source" data-state="loading">Reading the output of {from}…</div>;
  if (results.length === 0) {
    return <div className="hint" data-testid="sample-source" data-state="none">The flow has no saved sample: paste the output of {from} below.</div>;
  }
  const row = results.find((r) => String(r.sample) === picked);
  const edited = row != null && row.error === null && sample !== text(row.input);
  return (
    <div className="hint" data-testid="sample-source" data-state={row == null ? "unpicked" : row.error ? "error" : edited ? "edited" : "upstream"} data-sample={picked ?? ""}>
      Input: the output of <strong>{from}</strong> on sample{" "}
      <select
        value={picked ?? ""}
        data-testid="sample-pick"
        onChange={(e) => {
          const r = results.find((x) => String(x.sample) === e.target.value);
          setPicked(e.target.value);
          if (r && r.error === null) setSample(text(r.input));
        }}
      >
        {picked == null && <option value="">pick one</option>}
        {results.map((r) => (
          <option key={String(r.sample)} value={String(r.sample)}>{String(r.sample)}</option>
        ))}
      </select>
      {row?.error && <span className="field-error" data-testid="sample-source-error"> {row.error.message}</span>}
      {edited && <span> (edited)</span>}
    </div>
  );
}
