// The partner's users: their role in each workspace, locked accounts; create (the generated password is
// shown once), change roles, unlock, reset the password, delete.
import { useEffect, useState } from "react";
import { session } from "../access";
import { adminApi, ROLES, type Membership, type Role, type User, type Workspace } from "./adminApi";
import { Modal, SecretOnce, TypedConfirm } from "./Dialog";

type Dialog = { kind: "create" } | { kind: "roles" | "delete"; user: User } | { kind: "password"; user: User; password: string };

export function Users() {
  const [users, setUsers] = useState<User[] | null>(null);
  const [workspaces, setWorkspaces] = useState<Workspace[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const me = session()?.user.id; // no deleting oneself here: another admin does that

  const refresh = () => adminApi.users().then(setUsers, (e) => setError((e as Error).message));
  useEffect(() => {
    refresh();
    adminApi.workspaces().then(setWorkspaces, () => undefined);
  }, []);
  const close = () => {
    setDialog(null);
    refresh();
  };
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      setError(null);
      await refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  // the server makes the password (PATCH password: null), ends the user's sessions and returns it once
  const reset = (user: User) =>
    act(async () => {
      const r = await adminApi.updateUser(user.id, { password: null });
      if (r.password) setDialog({ kind: "password", user, password: r.password });
    });

  return (
    <>
      <div className="create-row">
        <button className="btn primary" onClick={() => setDialog({ kind: "create" })} data-testid="user-create">New user</button>
        <span className="hint admin-intro">A user holds one role in each workspace they work in; a partner admin holds every role in every workspace.</span>
      </div>
      {error && <div className="banner error" data-testid="admin-error">{error}</div>}
      {users === null ? (
        <p className="hint">Loading…</p>
      ) : (
        <table className="grid" data-testid="user-table">
          <thead>
            <tr>
              <th>User</th>
              <th>Roles</th>
              <th>State</th>
              <th className="actions" />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-user-email={u.email}>
                <td>
                  <div>
                    {u.name || u.email}
                    {u.id === me && <span className="hint"> (you)</span>}
                  </div>
                  <div className="hint">{u.email}</div>
                </td>
                <td data-testid="user-roles">
                  {u.partner_admin && <span className="pill deployed">partner admin</span>}{" "}
                  {u.memberships.map((m) => (
                    <span key={m.workspace} className="pill admin-role">
                      {m.workspace}: {m.role}
                    </span>
                  ))}
                  {!u.partner_admin && u.memberships.length === 0 && <span className="hint">no workspace</span>}
                </td>
                <td>{u.locked ? <span className="pill st-failed" data-testid="user-locked">locked</span> : <span className="hint">active</span>}</td>
                <td className="actions">
                  <button className="btn small" onClick={() => setDialog({ kind: "roles", user: u })} data-testid="user-roles-edit">Roles</button>{" "}
                  {u.locked && (
                    <>
                      <button className="btn small" onClick={() => act(() => adminApi.updateUser(u.id, { unlock: true }))} data-testid="user-unlock">Unlock</button>{" "}
                    </>
                  )}
                  <button className="btn small" onClick={() => reset(u)} data-testid="user-reset">Reset password</button>{" "}
                  {u.id !== me && (
                    <button className="btn small danger" onClick={() => setDialog({ kind: "delete", user: u })} data-testid="user-delete">Delete</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog?.kind === "create" && <CreateUser workspaces={workspaces} onClose={close} />}
      {dialog?.kind === "roles" && <RolesDialog user={dialog.user} workspaces={workspaces} onClose={close} />}
      {dialog?.kind === "password" && (
        <Modal title={`New password for ${dialog.user.email}`} onClose={close} testId="user-password-dialog">
          <SecretOnce label="Password" secret={dialog.password} note="Give it to the user now: it is not shown again. They choose their own at the next sign-in." />
          <footer>
            <button className="btn primary" onClick={close}>Done</button>
          </footer>
        </Modal>
      )}
      {dialog?.kind === "delete" && (
        <TypedConfirm
          what="user"
          name={dialog.user.email}
          consequence="The user can no longer log in. What they changed stays in the audit log under their email."
          onConfirm={() => adminApi.deleteUser(dialog.user.id)}
          onClose={close}
        />
      )}
    </>
  );
}

/** One role select per workspace ("" = no access) and the partner admin switch. */
function MembershipEditor({ workspaces, admin, setAdmin, roles, setRoles }: {
  workspaces: Workspace[];
  admin: boolean;
  setAdmin: (v: boolean) => void;
  roles: Record<string, Role | "">;
  setRoles: (r: Record<string, Role | "">) => void;
}) {
  return (
    <>
      <label className="field-check">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} data-testid="user-partner-admin" />
        <span>Partner admin <span className="hint">(every workspace, users, keys, branding)</span></span>
      </label>
      {!admin && (
        <table className="grid admin-roles">
          <tbody>
            {workspaces.map((w) => (
              <tr key={w.id}>
                <td>
                  <code>{w.id}</code> <span className="hint">{w.name}</span>
                </td>
                <td>
                  <select value={roles[w.id] || ""} onChange={(e) => setRoles({ ...roles, [w.id]: e.target.value as Role | "" })} data-testid={`user-role-${w.id}`}>
                    <option value="">no access</option>
                    {ROLES.map((r) => (
                      <option key={r} value={r}>{r}</option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function memberships(roles: Record<string, Role | "">): Membership[] {
  return Object.entries(roles)
    .filter(([, r]) => r)
    .map(([workspace, role]) => ({ workspace, role: role as Role }));
}

function CreateUser({ workspaces, onClose }: { workspaces: Workspace[]; onClose: () => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [admin, setAdmin] = useState(false);
  const [roles, setRoles] = useState<Record<string, Role | "">>({});
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ email: string; password?: string } | null>(null);

  const submit = async () => {
    setError(null);
    try {
      const r = await adminApi.createUser({ email: email.trim(), name: name.trim(), partner_admin: admin, memberships: admin ? [] : memberships(roles) });
      setCreated({ email: r.user.email, password: r.password });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <Modal title="New user" onClose={onClose} testId="user-create-dialog">
      {created ? (
        <>
          <p>
            User <code>{created.email}</code> created.
          </p>
          {created.password && <SecretOnce label="One-time password" secret={created.password} note="Give it to the user now: it is not shown again. They choose their own at the next sign-in." />}
          <footer>
            <button className="btn primary" onClick={onClose} data-testid="user-created-done">Done</button>
          </footer>
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <label className="field">
            <span className="field-label">Email<span className="req">*</span></span>
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus data-testid="user-email" />
          </label>
          <label className="field">
            <span className="field-label">Name</span>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} data-testid="user-name" />
          </label>
          <MembershipEditor workspaces={workspaces} admin={admin} setAdmin={setAdmin} roles={roles} setRoles={setRoles} />
          {error && <div className="banner error" data-testid="user-create-error">{error}</div>}
          <footer>
            <button className="btn" type="button" onClick={onClose}>Cancel</button>
            <button className="btn primary" type="submit" disabled={!email.trim()} data-testid="user-create-submit">Create</button>
          </footer>
        </form>
      )}
    </Modal>
  );
}

function RolesDialog({ user, workspaces, onClose }: { user: User; workspaces: Workspace[]; onClose: () => void }) {
  const [admin, setAdmin] = useState(user.partner_admin);
  const [roles, setRoles] = useState<Record<string, Role | "">>(Object.fromEntries(user.memberships.map((m) => [m.workspace, m.role])));
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    try {
      await adminApi.updateUser(user.id, { partner_admin: admin, memberships: memberships(roles) });
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Modal title={`Roles of ${user.email}`} onClose={onClose} testId="user-roles-dialog">
      <MembershipEditor workspaces={workspaces} admin={admin} setAdmin={setAdmin} roles={roles} setRoles={setRoles} />
      {error && <div className="banner error">{error}</div>}
      <footer>
        <button className="btn" onClick={onClose}>Cancel</button>
        <button className="btn primary" onClick={save} data-testid="user-roles-save">Save</button>
      </footer>
    </Modal>
  );
}
