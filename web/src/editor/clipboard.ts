// Copy, paste and duplicate of selected nodes (with the edges between them). The clipboard lives in
// localStorage so nodes can be pasted into another flow or another tab.
import { useCallback, useRef } from "react";
import type { FlowDoc } from "../types";
import { copySelection, paste, type Clip } from "./document";
import type { Change } from "./history";

const CLIP_KEY = "crossdock.clipboard";
const OFFSET = 40;

interface Deps {
  getDoc: () => FlowDoc | null;
  getSelected: () => Set<string>;
  apply: (fn: (doc: FlowDoc) => FlowDoc, change?: Change) => void;
  select: (nodeIds: string[]) => void;
  notify: (text: string) => void;
}

export function useClipboard(deps: Deps) {
  const ref = useRef(deps);
  ref.current = deps;
  const pastes = useRef(0); // each paste of the same clip lands a step further from the original

  const insert = useCallback((clip: Clip | null) => {
    if (!clip || !Array.isArray(clip.nodes) || !clip.nodes.length) return;
    const doc = ref.current.getDoc();
    if (!doc) return;
    pastes.current += 1;
    const [next, ids] = paste(doc, clip, OFFSET * pastes.current);
    ref.current.apply(() => next);
    ref.current.select(ids); // same render as the paste
  }, []);

  const copy = useCallback(() => {
    const doc = ref.current.getDoc();
    const selected = ref.current.getSelected();
    if (!doc || !selected.size) return;
    const clip = copySelection(doc, selected);
    localStorage.setItem(CLIP_KEY, JSON.stringify(clip));
    pastes.current = 0;
    ref.current.notify(`Copied ${clip.nodes.length} node${clip.nodes.length === 1 ? "" : "s"}.`);
  }, []);

  const pasteClip = useCallback(() => {
    try {
      insert(JSON.parse(localStorage.getItem(CLIP_KEY) || "null"));
    } catch {
      /* a clipboard written by an older build is ignored */
    }
  }, [insert]);

  const duplicate = useCallback(() => {
    const doc = ref.current.getDoc();
    const selected = ref.current.getSelected();
    if (!doc || !selected.size) return;
    pastes.current = 0;
    insert(copySelection(doc, selected));
  }, [insert]);

  return { copy, paste: pasteClip, duplicate };
}
