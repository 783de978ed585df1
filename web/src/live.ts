// The one module that holds the live connection (Socket.IO, docs/api.md "Live events"). Pages subscribe to
// a workspace or to one flow and receive events in batches, at most a few times a second, never per event.
// The handshake carries the session cookie: the server lets a socket join only the workspaces its user sees.
import { io, type Socket } from "socket.io-client";
import { workspace } from "./api";

export type LiveEventName = "run.queued" | "run.started" | "step.started" | "step.succeeded" | "step.failed" | "run.finished"
  | "flow.deployed"; // a new version of the flow was deployed (no run_id): monitors switch to it

export interface LiveEvent {
  event: LiveEventName;
  workspace: string;
  flow_id: string;
  run_id: number | string;
  ts: number;
  node_id?: string;
  seq?: number;
  attempt?: number;
  status?: string;
  port?: string | null;
  duration_ms?: number | null;
  business_key?: string | null;
  version?: number;
  replay_of?: number | string | null;
  error?: { code?: string; class?: string; message?: string; node?: string } | null;
}

const EVENTS: LiveEventName[] = ["run.queued", "run.started", "step.started", "step.succeeded", "step.failed", "run.finished", "flow.deployed"];

export interface Subscription {
  close: () => void;
}

export interface SubscribeOptions {
  /** Only this flow's events (its room); all of the workspace's otherwise. */
  flowId?: string;
  /** Another workspace the user sees than the page's (the partner-wide workbench listens to each of its customers). */
  workspace?: string;
  /** Milliseconds between batches handed to onBatch (200 ms = at most 5 UI updates a second). */
  intervalMs?: number;
  onBatch: (events: LiveEvent[]) => void;
  onStatus?: (connected: boolean) => void;
}

/**
 * Connects and buffers events; every intervalMs the buffer (if not empty) goes to onBatch in one call,
 * so a page re-renders a bounded number of times however many events arrive.
 */
export function subscribe(opts: SubscribeOptions): Subscription {
  const auth: Record<string, string> = { workspace: opts.workspace || workspace() };
  if (opts.flowId) auth.flow_id = opts.flowId;
  const socket: Socket = io({ path: "/socket.io", auth, transports: ["websocket", "polling"], withCredentials: true });
  let buffer: LiveEvent[] = [];
  for (const name of EVENTS) {
    socket.on(name, (data: Omit<LiveEvent, "event">) => {
      buffer.push({ ...data, event: name });
    });
  }
  socket.on("connect", () => opts.onStatus?.(true));
  socket.on("disconnect", () => opts.onStatus?.(false));
  socket.on("connect_error", () => opts.onStatus?.(false));
  const timer = window.setInterval(() => {
    if (!buffer.length) return;
    const batch = buffer;
    buffer = [];
    opts.onBatch(batch);
  }, opts.intervalMs ?? 200);
  return {
    close: () => {
      window.clearInterval(timer);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
