// Draws /admin/<page> under the app header: the partner admin's workspaces, users, API keys, audit log and
// brand. Their paths and header links are in routes.ts.
import { useEffect, useState, type ReactNode } from "react";
import { setSession } from "../access";
import { sessionApi } from "../api";
import { loadBrand, setTitle } from "../brand";
import { AppNav } from "../pages/AppNav";
import "./admin.css";
import { ApiKeys } from "./ApiKeys";
import { AuditLog } from "./AuditLog";
import { Branding } from "./Branding";
import { Users } from "./Users";
import { Workspaces } from "./Workspaces";

/** What a page tells the header when it changed what the header shows. */
interface Changed {
  brand: () => void;
  workspaces: () => void;
}

const PAGES: Record<string, { title: string; render: (changed: Changed) => ReactNode }> = {
  workspaces: { title: "Workspaces", render: (changed) => <Workspaces onChanged={changed.workspaces} /> },
  users: { title: "Users", render: () => <Users /> },
  keys: { title: "API keys", render: () => <ApiKeys /> },
  audit: { title: "Audit log", render: () => <AuditLog /> },
  branding: { title: "Branding", render: (changed) => <Branding onSaved={changed.brand} /> },
};

export function AdminPages({ page, navigate }: { page: string; navigate: (path: string) => void }) {
  const p = PAGES[page];
  // the header reads the brand and the session's workspaces when it draws: after a change they are loaded
  // again and the page drawn anew
  const [, setDrawn] = useState(0);
  const redraw = () => setDrawn((v) => v + 1);
  const changed: Changed = {
    brand: () => loadBrand().then(redraw),
    workspaces: () =>
      sessionApi.current().then(
        (s) => {
          setSession(s);
          redraw();
        },
        () => undefined,
      ),
  };
  useEffect(() => setTitle(p ? p.title : "Admin"), [p]);
  return (
    <div className="flow-list-page" data-testid={`admin-${page}`}>
      <AppNav current={`/admin/${page}`} navigate={navigate} title={<span className="flow-title">{p ? p.title : "Admin"}</span>} />
      <main className="flow-list wide">{p ? p.render(changed) : <div className="page-message">No admin page {page}</div>}</main>
    </div>
  );
}
