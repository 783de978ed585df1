// Undo/redo as snapshots of the immutable flow document (React Flow has no undo of its own).
// The state lives in a ref and changes synchronously, so two quick commands never work on a stale document;
// a counter re-renders the editor after each change.
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

const EMPTY: State = { past: [], present: null, future: [], base: null, lastKey: null, lastAt: 0 };

export function useHistory() {
  const ref = useRef<State>(EMPTY);
  const [, setVersion] = useState(0);
  const set = useCallback((next: State) => {
    if (next === ref.current) return;
    ref.current = next;
    setVersion((v) => v + 1);
  }, []);

  const apply = useCallback(
    (fn: (doc: FlowDoc) => FlowDoc, change: Change = {}) => {
      const s = ref.current;
      if (!s.present) return;
      const next = fn(s.present);
      if (next === s.present) return;
      if (change.mode === "transient") return set({ ...s, present: next, base: s.base || s.present });
      const now = Date.now();
      const before = s.base || s.present;
      const merge = change.key && change.key === s.lastKey && now - s.lastAt < COALESCE_MS && !s.base;
      const past = merge ? s.past : [...s.past, before].slice(-LIMIT);
      set({ past, present: next, future: [], base: null, lastKey: change.key || null, lastAt: now });
    },
    [set],
  );

  const reset = useCallback((doc: FlowDoc) => set({ ...EMPTY, present: doc }), [set]);

  const undo = useCallback(() => {
    const s = ref.current;
    if (!s.present || !s.past.length) return;
    const prev = s.past[s.past.length - 1];
    set({ past: s.past.slice(0, -1), present: prev, future: [s.base || s.present, ...s.future], base: null, lastKey: null, lastAt: 0 });
  }, [set]);

  const redo = useCallback(() => {
    const s = ref.current;
    if (!s.present || !s.future.length) return;
    const [next, ...rest] = s.future;
    set({ past: [...s.past, s.present], present: next, future: rest, base: null, lastKey: null, lastAt: 0 });
  }, [set]);

  const state = ref.current;
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
