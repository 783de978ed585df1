// What the workspace has for a node to name (connections, lookup tables), for the inspector to offer.
// Read when the editor opens and again whenever the window regains focus (a connection set up in another tab).
import { useEffect, useState } from "react";
import { api } from "../api";

/** Names by reference kind; null while unknown (not loaded, or the request failed): the field stays free text. */
export type Choices = Record<string, string[] | null>;

export function useWorkspaceChoices(): Choices {
  const [choices, setChoices] = useState<Choices>({ connection: null, lookup: null });
  useEffect(() => {
    let alive = true;
    const load = () => {
      api
        .connections()
        .then((cs) => alive && setChoices((c) => ({ ...c, connection: cs.map((x) => x.name) })))
        .catch(() => undefined);
      api
        .lookupTables()
        .then((ts) => alive && setChoices((c) => ({ ...c, lookup: ts.map((t) => t.table) })))
        .catch(() => undefined);
    };
    load();
    window.addEventListener("focus", load);
    return () => {
      alive = false;
      window.removeEventListener("focus", load);
    };
  }, []);
  return choices;
}
