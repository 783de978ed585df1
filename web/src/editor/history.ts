// Undo/redo as snapshots of the immutable flow document (React Flow has no undo of its own).
import { useCallback, useRef, useState } from "react";
import type { FlowDoc } from "../types";

const LIMIT = 200;
const COALESCE_MS = 1200;

export interface Change {
  /** "transient": not recorded yet (a drag in progress); the next recorded change folds it in. */
  mode?: "record" | "transient";
  /** Consecutive changes with the same key (typing in one field) become one undo step. */
  key?: string;
}

interface State {
  past: FlowDoc[];
  present: FlowDoc | null;
  future: FlowDoc[];
  base: FlowDoc | null; // the document before a transient change began
  lastKey: string | null;
  lastAt: number;
}

export function useHistory() {
  const [state, setState] = useState<State>({ past: [], present: null, future: [], base: null, lastKey: null, lastAt: 0 });
  const ref = useRef(state);
  ref.current = state;

  const apply = useCallback((fn: (doc: FlowDoc) => FlowDoc, change: Change = {}) => {
    setState((s) => {
      if (!s.present) return s;
      const next = fn(s.present);
      if (next === s.present) return s;
      if (change.mode === "transient") return { ...s, present: next, base: s.base || s.present };
      const now = Date.now();
      const before = s.base || s.present;
      const merge = change.key && change.key === s.lastKey && now - s.lastAt < COALESCE_MS && !s.base;
      const past = merge ? s.past : [...s.past, before].slice(-LIMIT);
      return { past, present: next, future: [], base: null, lastKey: change.key || null, lastAt: now };
    });
  }, []);

  const reset = useCallback((doc: FlowDoc) => {
    setState({ past: [], present: doc, future: [], base: null, lastKey: null, lastAt: 0 });
  }, []);

  const undo = useCallback(() => {
    setState((s) => {
      if (!s.present || !s.past.length) return s;
      const prev = s.past[s.past.length - 1];
      return { past: s.past.slice(0, -1), present: prev, future: [s.base || s.present, ...s.future], base: null, lastKey: null, lastAt: 0 };
    });
  }, []);

  const redo = useCallback(() => {
    setState((s) => {
      if (!s.present || !s.future.length) return s;
      const [next, ...rest] = s.future;
      return { past: [...s.past, s.present], present: next, future: rest, base: null, lastKey: null, lastAt: 0 };
    });
  }, []);

  return {
    doc: state.present,
    docRef: ref,
    canUndo: state.past.length > 0,
    canRedo: state.future.length > 0,
    apply,
    reset,
    undo,
    redo,
  };
}
