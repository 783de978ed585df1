// The flow's problems: checked by the server as you edit (debounced; a stale answer never overwrites a newer
// one), taken as they are from a load or save that brings its own, and placed on nodes and edges for the canvas.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api";
import type { FlowDoc, Problem } from "../types";
import { locateProblem } from "./document";

const DEBOUNCE_MS = 350;

function byKey(problems: Problem[], key: "node" | "edge"): Map<string, Problem[]> {
  const m = new Map<string, Problem[]>();
  for (const p of problems) {
    const id = p[key];
    if (id) m.set(id, [...(m.get(id) || []), p]);
  }
  return m;
}

export function useValidation(doc: FlowDoc | null, docJson: string) {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [collapsed, setCollapsed] = useState(false); // the problems panel
  const ticket = useRef(0); // of the newest validate call; older answers are dropped
  const validatedJson = useRef(""); // the document the problems shown belong to
  const problemsRef = useRef(problems);
  problemsRef.current = problems;

  useEffect(() => {
    if (!doc || docJson === validatedJson.current) return;
    const mine = ++ticket.current;
    setChecking(true);
    const timer = setTimeout(() => {
      api
        .validate(doc)
        .then((r) => {
          if (mine !== ticket.current) return;
          validatedJson.current = docJson;
          setProblems(r.problems);
        })
        .catch(() => undefined)
        .finally(() => mine === ticket.current && setChecking(false));
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
    // docJson stands for doc
  }, [docJson]);

  /** The problems the server found in a document it just read: no check of that document is needed. */
  const loaded = useCallback((json: string, found: Problem[]) => {
    validatedJson.current = json;
    setProblems(found);
  }, []);

  /** The problems the server found in a document it just stored: a check still pending is dropped. */
  const saved = useCallback((json: string, found: Problem[]) => {
    ticket.current++;
    setChecking(false);
    validatedJson.current = json;
    setProblems(found);
  }, []);

  /** Problems a refused save or deploy names: shown, with the panel open. */
  const report = useCallback((found: Problem[]) => {
    setProblems(found);
    setCollapsed(false);
  }, []);

  const reveal = useCallback(() => setCollapsed(false), []);
  const toggle = useCallback(() => setCollapsed((c) => !c), []);
  const errors = useCallback(() => problemsRef.current.filter((p) => p.severity === "error"), []);

  const located = useMemo(() => (doc ? problems.map((p) => locateProblem(p, doc)) : problems), [problems, doc]);
  const problemsByNode = useMemo(() => byKey(located, "node"), [located]);
  const problemsByEdge = useMemo(() => byKey(located, "edge"), [located]);

  return { problems, located, problemsByNode, problemsByEdge, checking, collapsed, problemsRef, loaded, saved, report, reveal, toggle, errors };
}

export type Validation = ReturnType<typeof useValidation>;
