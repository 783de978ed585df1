// How the dashboard writes its figures: rates as percentages, latencies in ms or s, ages and durations in the
// largest unit that fits, and "–" wherever the server had nothing to measure (null).
export const DASH = "–";

export function pct(rate: number | null | undefined, digits = 1): string {
  return rate == null ? DASH : `${(rate * 100).toFixed(digits)}%`;
}

export function ms(v: number | null | undefined): string {
  if (v == null) return DASH;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

export function age(seconds: number | null | undefined): string {
  if (seconds == null) return DASH;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export function hours(h: number | null | undefined): string {
  if (h == null) return DASH;
  if (h < 1) return `${Math.round(h * 60)} min`;
  return h >= 48 ? `${(h / 24).toFixed(1)} d` : `${h.toFixed(1)} h`;
}

export function count(n: number | null | undefined): string {
  return n == null ? DASH : n.toLocaleString("en-US");
}

/** The UTC day (YYYY-MM-DD) of a moment. */
export function day(t: Date): string {
  return t.toISOString().slice(0, 10);
}

/** A null-safe attribute value for tests and tools: the raw figure, or "" for none. */
export function raw(v: number | null | undefined): string {
  return v == null ? "" : String(v);
}
