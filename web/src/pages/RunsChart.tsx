// The dashboard's runs-over-time chart: succeeded and failed runs per bucket (a minute, or an hour for long
// windows), drawn by uPlot on a canvas. Buckets the server left out are zeros, so a quiet minute shows as a gap.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Dashboard } from "../api";

const MAX_BUCKETS = 2000; // 7 days of hours is 168, 6 hours of minutes 360: far below

/** [bucket starts in seconds, succeeded, failed] over the whole window, oldest first. */
export function series(d: Dashboard): [number[], number[], number[]] {
  const step = Math.max(60, d.bucket_s || 60);
  // from the bucket the window starts in to the one it ends in, both partly covered
  const now = Date.parse(d.generated_at) / 1000;
  const end = Math.floor(now / step) * step;
  const n = Math.min(MAX_BUCKETS, (end - Math.floor((now - d.window_s) / step) * step) / step + 1);
  const start = end - (n - 1) * step;
  const xs = Array.from({ length: n }, (_, i) => start + i * step);
  const ok = new Array<number>(n).fill(0);
  const bad = new Array<number>(n).fill(0);
  for (const b of d.runs.per_minute) {
    const i = Math.round((Math.floor(Date.parse(b.t) / 1000) - start) / step);
    if (i < 0 || i >= n) continue;
    ok[i] += b.succeeded;
    bad[i] += b.failed;
  }
  return [xs, ok, bad];
}

export function RunsChart({ data }: { data: Dashboard }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [xs, ok, bad] = series(data);
  const step = xs.length > 1 ? xs[1] - xs[0] : 60;
  const drawn = ok.reduce((a, b) => a + b, 0) + bad.reduce((a, b) => a + b, 0);

  useEffect(() => {
    const el = box.current!;
    const bars = uPlot.paths.bars!({ size: [0.7, 24] });
    // failed is drawn over the total, so each bar reads as succeeded below failed; an empty bucket draws nothing
    const total = ok.map((v, i) => v + bad[i] || null);
    const failed = bad.map((v) => v || null);
    const opts: uPlot.Options = {
      width: Math.max(320, el.clientWidth),
      height: 220,
      // half a bucket either side, so the first and last bars are drawn whole
      scales: { x: { time: true, range: () => [xs[0] - step / 2, xs[xs.length - 1] + step / 2] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      series: [
        {},
        { label: "Succeeded", stroke: "#16a34a", fill: "rgba(22, 163, 74, 0.55)", paths: bars, points: { show: false }, value: (_u, _v, _s, i) => (i == null ? "–" : String(ok[i])) },
        { label: "Failed", stroke: "#dc2626", fill: "rgba(220, 38, 38, 0.8)", paths: bars, points: { show: false }, value: (_u, _v, _s, i) => (i == null ? "–" : String(bad[i])) },
      ],
      axes: [{}, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000] }],
      legend: { live: true },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, [xs, total, failed], el);
    const resize = () => plot.current?.setSize({ width: Math.max(320, el.clientWidth), height: 220 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
    // the chart is drawn again whenever a new answer arrives
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data]);

  return <div ref={box} className="runs-chart" data-testid="runs-chart" data-buckets={xs.length} data-runs={drawn} />;
}
