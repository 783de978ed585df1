// The dialogs open on a page, in the order they opened: Escape closes the topmost one only, before any other key
// handling sees it. The editor's own Escape (clear the canvas selection) re-renders the editor at once, and a
// dialog's own window listener, re-registered in that render, missed the key; now it acts only when no dialog is open.
import { useEffect, useRef } from "react";

interface Entry {
  close: () => void;
}

const open: Entry[] = [];

function onKey(e: KeyboardEvent) {
  if (e.key !== "Escape" || open.length === 0) return;
  // an expression editor's completion list closes first, the dialog it sits in with the next Escape
  const target = e.target as HTMLElement | null;
  if (target?.closest?.(".cm-editor") && document.querySelector(".cm-tooltip-autocomplete")) return;
  e.preventDefault();
  e.stopPropagation();
  open[open.length - 1].close();
}

/** While mounted (and `active`), this dialog is on the stack; Escape calls the latest `onClose` when it is on top. */
export function useEscapeCloses(onClose: () => void, active = true) {
  const latest = useRef(onClose);
  latest.current = onClose;
  useEffect(() => {
    if (!active) return;
    const entry: Entry = { close: () => latest.current() };
    open.push(entry);
    if (open.length === 1) window.addEventListener("keydown", onKey, true); // capture: ahead of every other handler
    return () => {
      const i = open.indexOf(entry);
      if (i >= 0) open.splice(i, 1);
      if (open.length === 0) window.removeEventListener("keydown", onKey, true);
    };
  }, [active]);
}
