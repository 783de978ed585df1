// The workspace a per-workspace admin page (API keys, audit log) shows; picking another reloads the page
// there, as the header's switcher does for the flow pages.
import { session } from "../access";
import { workspace } from "../api";

export function WorkspacePick() {
  const ws = workspace();
  const listed = session()?.workspaces || [];
  return (
    <select
      value={ws}
      onChange={(e) => {
        const q = new URLSearchParams(location.search);
        q.set("workspace", e.target.value);
        location.assign(`${location.pathname}?${q}`);
      }}
      className="admin-ws-pick"
      data-testid="admin-workspace"
    >
      {!listed.some((w) => w.id === ws) && <option value={ws}>{ws}</option>}
      {listed.map((w) => (
        <option key={w.id} value={w.id}>
          {w.name && w.name !== w.id ? `${w.id} · ${w.name}` : w.id}
        </option>
      ))}
    </select>
  );
}
