// Routes /admin/<page> to its page, under the app header: the partner admin's workspaces, users, API
// keys, audit log and brand. ADMIN_LINKS are the header links AppNav shows a partner admin.
import { useEffect, useState, type ReactNode } from "react";
import { loadBrand, setTitle } from "../brand";
import { AppNav } from "../pages/AppNav";
import "./admin.css";
import { ApiKeys } from "./ApiKeys";
import { AuditLog } from "./AuditLog";
import { Branding } from "./Branding";
import { Users } from "./Users";
import { Workspaces } from "./Workspaces";

export const ADMIN_LINKS: [string, string][] = [
  ["/admin/workspaces", "Workspaces"],
  ["/admin/users", "Users"],
  ["/admin/keys", "Keys"],
  ["/admin/audit", "Audit"],
  ["/admin/branding", "Branding"],
];

const PAGES: Record<string, { title: string; render: (brandChanged: () => void) => ReactNode }> = {
  workspaces: { title: "Workspaces", render: () => <Workspaces /> },
  users: { title: "Users", render: () => <Users /> },
  keys: { title: "API keys", render: () => <ApiKeys /> },
  audit: { title: "Audit log", render: () => <AuditLog /> },
  branding: { title: "Branding", render: (brandChanged) => <Branding onSaved={brandChanged} /> },
};

export function AdminPages({ page, navigate }: { page: string; navigate: (path: string) => void }) {
  const p = PAGES[page];
  // the header reads the brand when it draws: a saved brand is loaded again and the page drawn anew
  const [, setBrandVersion] = useState(0);
  const brandChanged = () => loadBrand().then(() => setBrandVersion((v) => v + 1));
  useEffect(() => setTitle(p ? p.title : "Admin"), [p]);
  return (
    <div className="flow-list-page" data-testid={`admin-${page}`}>
      <AppNav current={`/admin/${page}`} navigate={navigate} title={<span className="flow-title">{p ? p.title : "Admin"}</span>} />
      <main className="flow-list wide">{p ? p.render(brandChanged) : <div className="page-message">No admin page {page}</div>}</main>
    </div>
  );
}
