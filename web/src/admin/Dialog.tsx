// The admin pages' dialogs: a modal frame (Escape and a backdrop click close it), a confirmation that
// asks to type the name of what is deleted, and a secret shown once with a copy button.
import { useState, type ReactNode } from "react";
import { useEscapeCloses } from "../dialogStack";

export function Modal({ title, onClose, children, testId }: { title: ReactNode; onClose: () => void; children: ReactNode; testId?: string }) {
  useEscapeCloses(onClose); // the topmost dialog only (dialogStack.ts)
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" data-testid={testId}>
        <header>
          <h3>{title}</h3>
          <button className="btn-ghost" onClick={onClose} aria-label="Close">✕</button>
        </header>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

/** Deleting waits until the exact name is typed: a slip of the mouse must not delete a customer. */
export function TypedConfirm({ what, name, consequence, onConfirm, onClose }: { what: string; name: string; consequence: string; onConfirm: () => Promise<void>; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal title={`Delete ${what} ${name}`} onClose={onClose} testId="confirm-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (typed === name) go();
        }}
      >
        <p>{consequence}</p>
        <label className="field">
          <span className="field-label">
            Type <code>{name}</code> to confirm
          </span>
          <input type="text" value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus data-testid="confirm-input" />
        </label>
        {error && <div className="banner error">{error}</div>}
        <footer>
          <button className="btn" type="button" onClick={onClose}>Cancel</button>
          <button className="btn primary danger-fill" type="submit" disabled={typed !== name || busy} data-testid="confirm-delete">
            {busy ? "Deleting…" : `Delete ${what}`}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** A password or key secret the server gives out once: shown here, copyable, gone when the dialog closes. */
export function SecretOnce({ label, secret, note }: { label: string; secret: string; note: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
    } catch {
      // no clipboard permission (plain http, old browser): select the text for Ctrl+C instead
      const el = document.querySelector<HTMLInputElement>("[data-testid=secret-value]");
      el?.select();
      document.execCommand?.("copy");
    }
    setCopied(true);
  };
  return (
    <div className="secret-once" data-testid="secret-once">
      <span className="field-label">{label}</span>
      <div className="secret-once-row">
        <input type="text" readOnly value={secret} onFocus={(e) => e.target.select()} data-testid="secret-value" className="mono" />
        <button className="btn" type="button" onClick={copy} data-testid="secret-copy">{copied ? "Copied" : "Copy"}</button>
      </div>
      <span className="hint">{note}</span>
    </div>
  );
}
