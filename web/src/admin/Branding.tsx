// The partner's brand: product name, logo (uploaded as a data URL), primary and accent colours and the
// support contact, with a live preview; saved with PUT /api/v1/partner and shown on every page.
import { useEffect, useState } from "react";
import { adminApi, type Branding as BrandingDoc } from "./adminApi";

const HEX = /^#[0-9a-fA-F]{6}$/;
// the server takes a logo's data: URL up to 200 KB, and base64 makes a file a third larger
const MAX_LOGO = 145 * 1024;
// what the pickers show while no colour is chosen (the app's own blue; a violet accent)
const UNSET = { primary: "#2563eb", accent: "#7c3aed" };

interface Form {
  partnerName: string;
  productName: string;
  logo: string;
  primary: string;
  accent: string;
  email: string;
  url: string;
}

function toForm(name: string, b: BrandingDoc | null): Form {
  return {
    partnerName: name,
    productName: b?.product_name || "",
    logo: b?.logo_url || "",
    primary: b?.colors?.primary || "",
    accent: b?.colors?.accent || "",
    email: b?.support?.email || "",
    url: b?.support?.url || "",
  };
}

/** The brand as PUT /partner takes it: a field left empty is null, i.e. the built-in default. */
function toBranding(f: Form): BrandingDoc {
  return {
    product_name: f.productName.trim() || null,
    logo_url: f.logo || null,
    colors: { primary: f.primary || null, accent: f.accent || null },
    support: { email: f.email.trim() || null, url: f.url.trim() || null },
  };
}

function ColorField({ label, value, unset, onChange, testId }: { label: string; value: string; unset: string; onChange: (v: string) => void; testId: string }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      <span className="row">
        <input type="color" value={HEX.test(value) ? value : unset} onChange={(e) => onChange(e.target.value)} className="admin-swatch" aria-label={`${label} picker`} />
        <input type="text" value={value} onChange={(e) => onChange(e.target.value.trim())} placeholder="default" className="mono admin-hex" data-testid={testId} />
      </span>
      {value !== "" && !HEX.test(value) && <span className="field-error">A colour as #rrggbb, or empty for the default.</span>}
    </label>
  );
}

export function Branding({ onSaved }: { onSaved: () => void }) {
  const [form, setForm] = useState<Form | null>(null);
  const [saved, setSaved] = useState<string>("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    adminApi.partner().then(
      (p) => {
        const f = toForm(p.name, p.branding);
        setForm(f);
        setSaved(JSON.stringify(f));
      },
      (e) => setError((e as Error).message),
    );
  }, []);
  if (!form) return error ? <div className="banner error" data-testid="admin-error">{error}</div> : <p className="hint">Loading…</p>;
  const set = (patch: Partial<Form>) => {
    setForm({ ...form, ...patch });
    setNotice(null);
  };
  const dirty = JSON.stringify(form) !== saved;
  const invalid = [form.primary, form.accent].some((c) => c !== "" && !HEX.test(c));
  const primary = form.primary || UNSET.primary;
  const accent = form.accent || UNSET.accent;

  const upload = (file: File | undefined) => {
    if (!file) return;
    if (!file.type.startsWith("image/")) return setError("The logo must be an image (PNG, SVG, JPEG, WebP).");
    if (file.size > MAX_LOGO) return setError(`The logo is ${Math.round(file.size / 1024)} KB; at most ${MAX_LOGO / 1024} KB.`);
    const reader = new FileReader();
    reader.onload = () => {
      setError(null);
      set({ logo: String(reader.result) });
    };
    reader.readAsDataURL(file);
  };

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const p = await adminApi.savePartner({ name: form.partnerName.trim() || undefined, branding: toBranding(form) });
      const f = p && p.branding !== undefined ? toForm(p.name, p.branding) : form;
      setForm(f);
      setSaved(JSON.stringify(f));
      setNotice("Saved: every page shows the new brand.");
      onSaved();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const product = form.productName.trim() || "Crossdock";
  return (
    <div className="admin-branding">
      <form
        className="admin-branding-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) save();
        }}
      >
        <label className="field">
          <span className="field-label">Partner name</span>
          <input type="text" value={form.partnerName} onChange={(e) => set({ partnerName: e.target.value })} data-testid="brand-partner-name" />
        </label>
        <label className="field">
          <span className="field-label">Product name</span>
          <input type="text" value={form.productName} onChange={(e) => set({ productName: e.target.value })} placeholder="Crossdock" data-testid="brand-product" />
          <span className="hint">Shown instead of the built-in name in the header, on the sign-in page, in the browser tab and in exported templates.</span>
        </label>
        <div className="field">
          <span className="field-label">Logo</span>
          <span className="row">
            <input type="file" accept="image/png,image/svg+xml,image/jpeg,image/webp,image/gif" onChange={(e) => upload(e.target.files?.[0])} data-testid="brand-logo-file" />
            {form.logo && <button className="btn small" type="button" onClick={() => set({ logo: "" })} data-testid="brand-logo-remove">Remove</button>}
          </span>
          <span className="hint">At most {MAX_LOGO / 1024} KB; shown about 24 px high.</span>
        </div>
        <div className="admin-colors">
          <ColorField label="Primary colour" value={form.primary} unset={UNSET.primary} onChange={(v) => set({ primary: v })} testId="brand-primary" />
          <ColorField label="Accent colour" value={form.accent} unset={UNSET.accent} onChange={(v) => set({ accent: v })} testId="brand-accent" />
        </div>
        <label className="field">
          <span className="field-label">Support email</span>
          <input type="email" value={form.email} onChange={(e) => set({ email: e.target.value })} placeholder="support@partner.example" data-testid="brand-support-email" />
        </label>
        <label className="field">
          <span className="field-label">Support page</span>
          <input type="url" value={form.url} onChange={(e) => set({ url: e.target.value })} placeholder="https://partner.example/support" data-testid="brand-support-url" />
        </label>
        {error && <div className="banner error" data-testid="admin-error">{error}</div>}
        {notice && <div className="banner admin-ok" data-testid="brand-saved">{notice}</div>}
        <footer className="row gap">
          <button className="btn primary" type="submit" disabled={!dirty || invalid || busy} data-testid="brand-save">{busy ? "Saving…" : "Save"}</button>
          <button className="btn" type="button" disabled={!dirty} onClick={() => setForm(JSON.parse(saved))}>Discard changes</button>
        </footer>
      </form>

      <aside className="admin-preview" data-testid="brand-preview" aria-label="Preview">
        <span className="field-label">Preview</span>
        <div className="admin-preview-frame">
          <header className="admin-preview-nav">
            {form.logo && <img src={form.logo} alt="" className="admin-preview-logo" data-testid="brand-preview-logo" />}
            <strong style={{ color: primary }} data-testid="brand-preview-name">{product}</strong>
            <span className="admin-preview-link" style={{ borderBottomColor: primary }}>Flows</span>
            <span className="admin-preview-link">Runs</span>
            <span className="admin-preview-link">Templates</span>
          </header>
          <div className="admin-preview-body">
            <h4>Orders to ERP</h4>
            <p className="hint">
              Deployed <span className="pill" style={{ color: accent, borderColor: accent }}>v3</span>
            </p>
            <span className="row">
              <button type="button" className="btn" style={{ background: primary, borderColor: primary, color: "#fff" }}>Deploy</button>
              <button type="button" className="btn" style={{ color: accent, borderColor: accent }}>Replay</button>
            </span>
          </div>
          <footer className="admin-preview-foot hint">
            Help: {form.email || "no support email"}
            {form.url && <> · {form.url}</>}
          </footer>
        </div>
        <div className="admin-preview-frame admin-preview-login">
          {form.logo && <img src={form.logo} alt="" className="admin-preview-logo" />}
          <strong style={{ color: primary }}>Sign in to {product}</strong>
          <span className="admin-preview-input" />
          <span className="admin-preview-input" />
          <button type="button" className="btn" style={{ background: primary, borderColor: primary, color: "#fff" }}>Sign in</button>
        </div>
      </aside>
    </div>
  );
}
