// Editor keyboard shortcuts. Typing in a field (or an expression editor) keeps its own keys, except Ctrl+S.
import { useEffect, useRef } from "react";

export interface ShortcutActions {
  save: () => void;
  remove: () => void;
  undo: () => void;
  redo: () => void;
  copy: () => void;
  paste: () => void;
  duplicate: () => void;
  selectAll: () => void;
  clear: () => void;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable || !!el.closest?.(".cm-editor");
}

export function useShortcuts(actions: ShortcutActions) {
  const ref = useRef(actions);
  ref.current = actions;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const a = ref.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "s") {
        e.preventDefault();
        a.save();
        return;
      }
      if (isTyping(e.target)) return;
      const run = (fn: () => void, prevent = true) => {
        if (prevent) e.preventDefault();
        fn();
      };
      if (key === "delete" || key === "backspace") run(a.remove);
      else if (mod && key === "z" && !e.shiftKey) run(a.undo);
      else if (mod && (key === "y" || (key === "z" && e.shiftKey))) run(a.redo);
      else if (mod && key === "c") run(a.copy, false);
      else if (mod && key === "v") run(a.paste);
      else if (mod && key === "d") run(a.duplicate);
      else if (mod && key === "a") run(a.selectAll);
      else if (key === "escape") run(a.clear, false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
