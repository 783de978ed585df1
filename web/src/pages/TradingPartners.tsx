// The EDI trading partners of the workspace (issue 15): the list with their ids, version, usage, 997 window and
// the last control number given out; create and edit in a dialog (TradingPartnersForm.tsx), delete after typing
// the name; and the interchanges sent to a partner with their 997 status (awaiting, acknowledged, overdue).
import { useEffect, useState } from "react";
import { api } from "../api";
import { can } from "../access";
import { TypedConfirm, Modal } from "../admin/Dialog";
import { AppNav } from "./AppNav";
import { when } from "./RunList";
import { PartnerForm, type TradingPartner } from "./TradingPartnersForm";
import "./TradingPartners.css";

interface Interchange {
  control_number: number;
  status: "awaiting" | "acknowledged" | "overdue" | "not_expected";
  flow_id: string | null;
  sent_at: string;
  due_at: string | null;
  acknowledged_at: string | null;
  groups: { functional_id: string; control_number: number; sets: number; status: string; ack_code: string | null }[];
}

const STATUS_CLASS: Record<string, string> = { acknowledged: "st-ok", overdue: "st-bad", awaiting: "st-active" };

function windowText(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

export function TradingPartners({ navigate }: { navigate: (path: string) => void }) {
  const [partners, setPartners] = useState<TradingPartner[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<TradingPartner | "new" | null>(null);
  const [deleting, setDeleting] = useState<TradingPartner | null>(null);
  const [showing, setShowing] = useState<TradingPartner | null>(null);
  const writable = can("connections:write");

  const refresh = () => api.tradingPartners<TradingPartner>().then(setPartners, (e) => setError((e as Error).message));
  useEffect(() => {
    refresh();
  }, []);

  return (
    <div className="flow-list-page">
      <AppNav current="/trading-partners" navigate={navigate} title={<span className="flow-title">Trading partners</span>} />
      <main className="flow-list wide">
        <div className="create-row">
          {writable && (
            <button className="btn primary" onClick={() => setEditing("new")} data-testid="tp-new">New trading partner</button>
          )}
          <span className="hint page-intro">The partners this workspace exchanges X12 with: the envelopes edi.write writes for each, its control numbers, and when a 997 is due back.</span>
        </div>
        {error && <div className="banner error">{error}</div>}
        {partners === null ? (
          <p className="hint">Loading…</p>
        ) : partners.length === 0 ? (
          <p className="hint" data-testid="tp-empty">No trading partners yet.</p>
        ) : (
          <table className="grid" data-testid="tp-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Partner (ISA / GS)</th>
                <th>Us (ISA / GS)</th>
                <th>Version</th>
                <th>Usage</th>
                <th>997</th>
                <th>Last control number</th>
                <th className="actions" />
              </tr>
            </thead>
            <tbody>
              {partners.map((p) => (
                <tr key={p.name} data-partner={p.name} data-testid="tp-row">
                  <td>
                    <strong data-testid="tp-row-name">{p.name}</strong>
                    {p.description && <div className="hint">{p.description}</div>}
                  </td>
                  <td><code data-testid="tp-partner-ids">{p.partner.qualifier}/{p.partner.id}</code> <span className="hint">{p.partner.application_id}</span></td>
                  <td><code>{p.us.qualifier}/{p.us.id}</code> <span className="hint">{p.us.application_id}</span></td>
                  <td>{p.version}</td>
                  <td><span className={`pill ${p.usage === "P" ? "st-ok" : ""}`} data-testid="tp-usage-pill">{p.usage === "P" ? "production" : "test"}</span></td>
                  <td data-testid="tp-ack">{p.ack.expected ? `within ${windowText(p.ack.window_minutes)}` : "not expected"}</td>
                  <td className="mono" data-testid="tp-last">{String(p.last_control_number).padStart(9, "0")}</td>
                  <td className="actions">
                    <button className="btn small" onClick={() => setShowing(p)} data-testid="tp-interchanges">Interchanges</button>
                    {writable && <button className="btn small" onClick={() => setEditing(p)} data-testid="tp-edit">Edit</button>}
                    {writable && <button className="btn small danger" onClick={() => setDeleting(p)} data-testid="tp-delete">Delete</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      {editing && (
        <PartnerForm
          existing={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            refresh();
          }}
        />
      )}
      {deleting && (
        <TypedConfirm
          what="trading partner"
          name={deleting.name}
          consequence="Its record goes; its control numbers are never given out again, also if a partner of this name is made later."
          onConfirm={() => api.deleteTradingPartner(deleting.name).then(refresh)}
          onClose={() => setDeleting(null)}
        />
      )}
      {showing && <Interchanges partner={showing} onClose={() => setShowing(null)} />}
    </div>
  );
}

function Interchanges({ partner, onClose }: { partner: TradingPartner; onClose: () => void }) {
  const [rows, setRows] = useState<Interchange[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.interchanges<Interchange>(partner.name).then(setRows, (e) => setError((e as Error).message));
  }, [partner.name]);
  return (
    <Modal title={`Interchanges sent to ${partner.name}`} onClose={onClose} testId="tp-interchanges-dialog">
      {error && <div className="banner error">{error}</div>}
      {rows === null ? (
        <p className="hint">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="hint">Nothing sent yet.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>ISA13</th>
              <th>Status</th>
              <th>Groups</th>
              <th>Sent</th>
              <th>997 due</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => (
              <tr key={i.control_number} data-testid="tp-interchange">
                <td className="mono">{String(i.control_number).padStart(9, "0")}</td>
                <td><span className={`pill ${STATUS_CLASS[i.status] || ""}`} data-testid="tp-interchange-status">{i.status.replace("_", " ")}</span></td>
                <td>{i.groups.map((g) => `${g.functional_id} ${g.control_number}: ${g.status.replace(/_/g, " ")}`).join("; ")}</td>
                <td className="hint">{when(i.sent_at)}{i.flow_id && <div>{i.flow_id}</div>}</td>
                <td className="hint">{i.due_at ? when(i.due_at) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Modal>
  );
}
