// What is selected on the canvas. A ref holds the newest selection at once, for commands that follow each
// other quickly (delete right after a click), while the state re-renders the editor.
import { useCallback, useRef, useState } from "react";
import type { Selection } from "./Canvas";

export const EMPTY_SELECTION: Selection = { nodes: new Set(), edges: new Set() };

export function useSelection() {
  const [selection, setSelectionState] = useState<Selection>(EMPTY_SELECTION);
  const selectionRef = useRef(selection);
  const setSelection = useCallback((next: Selection) => {
    selectionRef.current = next;
    setSelectionState(next);
  }, []);
  const selectOnly = useCallback(
    (nodes: string[], edges: string[] = []) => setSelection({ nodes: new Set(nodes), edges: new Set(edges) }),
    [setSelection],
  );
  return { selection, selectionRef, setSelection, selectOnly };
}
