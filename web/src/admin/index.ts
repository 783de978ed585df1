// The partner admin's pages (workspaces, users, API keys, audit log, branding), routed by main.tsx
// under /admin/<page> (routes.ts lists them). Each page takes `navigate` like the other pages.
export { AdminPages } from "./AdminPages";
