// The login page (/login): email and password under the partner's brand; a first password is changed here.
// After signing in the browser goes to `?next=` (a path of this app only), or to the flow list.
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, sessionApi } from "../api";
import { brand, setTitle } from "../brand";
import { SupportContact } from "./AppNav";

/** Where to go after signing in: only a path of this app (never another site: `//evil`, `https:`). */
export function nextPath(search = location.search): string {
  const next = new URLSearchParams(search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") && !next.startsWith("/login") ? next : "/";
}

function refusal(e: unknown): string {
  if (e instanceof ApiError && e.code === "account_locked") return "This account is locked after too many failed sign-ins. Try again in 15 minutes, or ask your administrator to unlock it.";
  if (e instanceof ApiError && (e.code === "invalid_credentials" || e.status === 401)) return "Wrong email or password.";
  if (e instanceof ApiError && e.status === 429) return "Too many attempts. Wait a minute and try again.";
  return `Could not sign in: ${(e as Error).message}`;
}

export function Login() {
  const b = brand();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [mustChange, setMustChange] = useState(false);

  useEffect(() => {
    setTitle("Sign in");
    // already signed in (another tab): nothing to do here, unless the first password is still to be changed
    sessionApi.current().then(
      (s) => (s.user.must_change_password ? setMustChange(true) : location.replace(nextPath())),
      () => undefined,
    );
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await sessionApi.login(email.trim(), password);
      if (s.user.must_change_password) {
        setMustChange(true);
        setBusy(false);
        return;
      }
      location.assign(nextPath());
    } catch (err) {
      setError(refusal(err));
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <main className="login-card" data-testid="login">
        <div className="login-brand">
          {b.logo_url && <img className="brand-logo" src={b.logo_url} alt="" data-testid="brand-logo" />}
          {b.product_name && (
            <span className="brand" data-testid="brand-name">
              {b.product_name}
            </span>
          )}
        </div>
        {mustChange ? (
          <ChangePassword current={password} />
        ) : (
          <form onSubmit={submit}>
            <h1>Sign in</h1>
            <label className="field">
              <span className="field-label">Email</span>
              <input type="text" name="email" autoComplete="username" autoFocus required value={email} onChange={(e) => setEmail(e.target.value)} data-testid="login-email" />
            </label>
            <label className="field">
              <span className="field-label">Password</span>
              <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} data-testid="login-password" />
            </label>
            {error && (
              <div className="field-error login-error" role="alert" data-testid="login-error">
                {error}
              </div>
            )}
            <button className="btn primary" type="submit" disabled={busy} data-testid="login-submit">
              {busy ? "Signing in…" : "Sign in"}
            </button>
          </form>
        )}
        <SupportContact />
      </main>
    </div>
  );
}

/** The first password's change; `current` is the password just typed, asked for again when not known. */
function ChangePassword({ current: typed }: { current: string }) {
  const [current, setCurrent] = useState(typed);
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (next !== again) {
      setError("The two new passwords differ.");
      return;
    }
    try {
      await sessionApi.changePassword(current, next);
      location.assign(nextPath());
    } catch (err) {
      const d = err instanceof ApiError ? err.details.map((p) => p.message).join("; ") : "";
      setError(`${(err as Error).message}${d ? `: ${d}` : ""}`);
    }
  };
  return (
    <form onSubmit={submit} data-testid="change-password">
      <h1>Choose a new password</h1>
      <p className="hint">Your administrator gave you a first password; choose your own to continue.</p>
      {!typed && (
        <label className="field">
          <span className="field-label">Current password</span>
          <input type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} data-testid="current-password" />
        </label>
      )}
      <label className="field">
        <span className="field-label">New password</span>
        <input type="password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} data-testid="new-password" />
      </label>
      <label className="field">
        <span className="field-label">New password again</span>
        <input type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} data-testid="new-password-again" />
      </label>
      {error && <div className="field-error login-error" role="alert">{error}</div>}
      <button className="btn primary" type="submit" data-testid="change-password-submit">
        Save and continue
      </button>
    </form>
  );
}
