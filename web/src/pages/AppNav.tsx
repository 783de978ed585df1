// The app header shared by the pages: brand, the page links, and whatever the page puts on the right.
import type { ReactNode } from "react";

const LINKS: [string, string][] = [
  ["/flows", "Flows"],
  ["/runs", "Runs"],
  ["/templates", "Templates"],
];

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

export function AppNav({ current, navigate, title, children }: { current: string; navigate: (path: string) => void; title?: ReactNode; children?: ReactNode }) {
  return (
    <header className="toolbar app-nav">
      <span className="brand">Crossdock</span>
      <nav className="nav-links">
        {LINKS.map(([to, label]) => (
          <Link key={to} to={to} navigate={navigate} className={current === to ? "nav-link active" : "nav-link"} testId={`nav-${label.toLowerCase()}`}>
            {label}
          </Link>
        ))}
      </nav>
      {title && <span className="sep" />}
      {title}
      <span className="spacer" />
      {children}
    </header>
  );
}
