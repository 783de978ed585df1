// The partner's brand on every page (GET /api/v1/branding): product name (also the window title), logo,
// colours as CSS variables, and the support contact. Pages read it with brand(); no page names the product.
import { getBranding } from "./api";
import type { Branding } from "./types";

// Until the server answers (or if it cannot), the app names no product at all: a white-labelled partner's
// customer must never see another name, even for a moment.
const UNBRANDED: Branding = { product_name: "", logo_url: null, colors: {}, support: {}, white_label: false };

let current: Branding = UNBRANDED;

export function brand(): Branding {
  return current;
}

/** Loads the brand (for `partner` when nobody is signed in yet) and applies it to the document. */
export async function loadBrand(partner?: string | null): Promise<Branding> {
  try {
    current = { ...UNBRANDED, ...(await getBranding(partner)) };
  } catch {
    current = UNBRANDED;
  }
  apply(current);
  return current;
}

// a colour value (#hex, rgb(...), a name), nothing that could end the declaration
const COLOR = /^[#\w\s(),.%-]{1,64}$/;

function apply(b: Branding) {
  const root = document.documentElement.style;
  const { primary, accent } = b.colors || {};
  if (primary && COLOR.test(primary)) {
    root.setProperty("--accent", primary);
    root.setProperty("--brand-primary", primary);
  }
  if (accent && COLOR.test(accent)) root.setProperty("--brand-accent", accent);
  const icon = document.querySelector<HTMLLinkElement>("link[rel=icon]");
  if (icon && b.logo_url) icon.href = b.logo_url; // the tab shows the partner's logo too
  setTitle();
}

/** The window title: the page's own name, then the product's. */
export function setTitle(page?: string) {
  const name = current.product_name;
  document.title = page && name ? `${page} · ${name}` : page || name;
}
