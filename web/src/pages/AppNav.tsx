// The app header shared by the pages: the partner's brand, whatever the page puts there, the workspace switcher,
// the signed-in user and sign-out on its first row; the page links (building, operating, then the admin pages
// for a partner admin) on a row of their own, so they fit a laptop screen however many there are.
import type { ReactNode } from "react";
import { can, isPartnerAdmin, session } from "../access";
import { loginHref, sessionApi, workspace } from "../api";
import { brand } from "../brand";
import { navGroup, navLinks } from "../routes";

const LINKS = navLinks("all");

/** An app path with the workspace of the current address kept in its query string. */
export function hrefFor(to: string): string {
  const ws = new URLSearchParams(location.search).get("workspace");
  if (!ws) return to;
  const [path, q] = to.split("?");
  const query = new URLSearchParams(q || "");
  query.set("workspace", ws);
  return `${path}?${query}`;
}

export function Link({ to, navigate, children, className, testId }: { to: string; navigate: (path: string) => void; children: ReactNode; className?: string; testId?: string }) {
  return (
    <a
      href={hrefFor(to)}
      className={className}
      data-testid={testId}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return; // let the browser open a new tab
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** The pages of /admin the user may open: all for a partner admin, the audit log for a role that reads it. */
export function adminLinks(): [string, string][] {
  if (isPartnerAdmin()) return navLinks("partner_admin", "audit");
  return can("audit:read") ? navLinks("audit") : [];
}

/** The product's name and logo, as the partner brands them. */
export function Brand() {
  const b = brand();
  return (
    <span className="brand" data-testid="brand">
      {b.logo_url && <img className="brand-logo" src={b.logo_url} alt="" data-testid="brand-logo" />}
      {b.product_name && <span data-testid="brand-name">{b.product_name}</span>}
    </span>
  );
}

/** The partner's support contact, where there is one; compact: one "Help" link naming both in its tooltip. */
export function SupportContact({ compact = false }: { compact?: boolean }) {
  const { email, url } = brand().support || {};
  if (!email && !url) return null;
  if (compact) {
    return (
      <a className="support" href={url || `mailto:${email}`} target={url ? "_blank" : undefined} rel="noreferrer" title={`Support: ${[email, url].filter(Boolean).join(" · ")}`} data-testid="support">
        Help
      </a>
    );
  }
  return (
    <span className="support" data-testid="support">
      Support:{" "}
      {url && (
        <a href={url} target="_blank" rel="noreferrer">
          {url.replace(/^https?:\/\//, "")}
        </a>
      )}
      {url && email && " · "}
      {email && <a href={`mailto:${email}`}>{email}</a>}
    </span>
  );
}

/** Switches the whole app to another of the user's workspaces (the address keeps it, so a reload stays there). */
function WorkspaceSwitcher() {
  const s = session();
  if (!s) return null;
  const ws = workspace();
  const listed = s.workspaces.some((w) => w.id === ws);
  return (
    <select
      className="workspace-switch"
      value={ws}
      title="Workspace"
      data-testid="workspace-switch"
      onChange={(e) => {
        const q = new URLSearchParams(location.search);
        q.set("workspace", e.target.value);
        // a flow or run of one workspace is not in another: start from the flow list
        location.assign(`/flows?${q}`);
      }}
    >
      {!listed && <option value={ws}>{ws}</option>}
      {s.workspaces.map((w) => (
        <option key={w.id} value={w.id}>
          {w.name || w.id}
          {w.status === "suspended" ? " (suspended)" : ""}
        </option>
      ))}
    </select>
  );
}

function UserMenu() {
  const s = session();
  if (!s) return null;
  const role = s.user.partner_admin ? "admin" : s.workspaces.find((w) => w.id === workspace())?.role;
  return (
    <span className="user-menu">
      <span className="user" title={s.user.email} data-testid="current-user">
        {s.user.name || s.user.email}
      </span>
      {role && (
        <span className="pill" data-testid="current-role">
          {role}
        </span>
      )}
      <button
        className="btn-ghost small"
        data-testid="logout"
        onClick={() => sessionApi.logout().finally(() => location.assign(loginHref("")))}
      >
        Sign out
      </button>
    </span>
  );
}

export function AppNav({ current, navigate, title, children }: { current: string; navigate: (path: string) => void; title?: ReactNode; children?: ReactNode }) {
  const admin = adminLinks();
  return (
    <header className="toolbar app-nav">
      <Brand />
      <nav className="nav-links">
        {[...LINKS, ...admin].map(([to, label], i, all) => (
          <span key={to} className="nav-item">
            {i > 0 && navGroup(all[i - 1][0]) !== navGroup(to) && <span className="nav-sep" aria-hidden="true" />}
            <Link to={to} navigate={navigate} className={current === to ? "nav-link active" : "nav-link"} testId={`nav-${label.toLowerCase().replace(/\s+/g, "-")}`}>
              {label}
            </Link>
          </span>
        ))}
      </nav>
      {title && <span className="sep" />}
      {title}
      <span className="spacer" />
      {children}
      <span className="sep" />
      <WorkspaceSwitcher />
      <UserMenu />
      <SupportContact compact />
    </header>
  );
}
