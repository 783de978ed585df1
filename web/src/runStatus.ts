// The run and step statuses the runtime produces (runtime/states.py), listed here once: which end a run, how
// each is labelled and which colour (tone) it is drawn in. The editor, the run list, the run page and the
// monitor read these; tests/web/test_run_status.py fails when the lists and runtime/states.py part.

/** Every run status, in the order a run passes through them. */
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed"] as const;
/** A run in one of these never moves again (a replay makes a new run). */
export const TERMINAL_STATUSES = ["succeeded", "failed"] as const;
/** What a step row records of each node attempt. */
export const STEP_STATUSES = ["running", "succeeded", "failed", "waiting"] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];
export type StepStatus = (typeof STEP_STATUSES)[number];
type AnyStatus = RunStatus | StepStatus;

/** The run statuses that may still move: a run in one of them is "now", not finished. */
export const OPEN_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter((s) => !(TERMINAL_STATUSES as readonly string[]).includes(s));

const TERMINAL_SET: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

export function isTerminal(status: string): boolean {
  return TERMINAL_SET.has(status);
}

/** ok: green, bad: red, active: blue (the st-<tone> classes of styles.css). */
export type Tone = "ok" | "bad" | "active";

const TONE: Record<AnyStatus, Tone> = { queued: "active", running: "active", succeeded: "ok", failed: "bad", waiting: "active" };

const LABEL: Record<AnyStatus, string> = { queued: "queued", running: "running", succeeded: "succeeded", failed: "failed", waiting: "waiting" };

const MARK: Record<StepStatus, string> = { running: "…", succeeded: "✓", failed: "✕", waiting: "⏸" };

/** The one-character mark of a step's status on its node. */
export function statusMark(status: string): string {
  return MARK[status as StepStatus] ?? "?";
}

/** The text a status is shown as; an unknown one (a newer server) as it is. */
export function statusLabel(status: string): string {
  return LABEL[status as AnyStatus] ?? status;
}

/** The class that colours a status: st-ok, st-bad or st-active (none for an unknown one). */
export function statusClass(status: string): string {
  const tone = TONE[status as AnyStatus];
  return tone ? `st-${tone}` : "st-unknown";
}
