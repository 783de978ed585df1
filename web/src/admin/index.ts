// The partner admin's pages (workspaces, users, API keys, audit log, branding), routed by main.tsx
// under /admin/<page>. Each page takes `navigate` like the other pages.
export { AdminPages, ADMIN_LINKS } from "./AdminPages";
