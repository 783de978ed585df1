// The editor's one toast (saved, deployed, refused, a run's end): all but errors fade after four seconds.
import { useCallback, useState } from "react";

export interface Notice {
  kind: "info" | "ok" | "error";
  text: string;
}

export function useNotice() {
  const [notice, setNotice] = useState<Notice | null>(null);
  const flash = useCallback((n: Notice) => {
    setNotice(n);
    if (n.kind !== "error") setTimeout(() => setNotice((cur) => (cur === n ? null : cur)), 4000);
  }, []);
  const dismiss = useCallback(() => setNotice(null), []);
  return { notice, flash, dismiss };
}
