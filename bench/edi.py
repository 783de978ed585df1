"""X12 codec speed: segments per second reading and writing a 10 MB interchange (issue 15, acceptance 5).

    python bench/edi.py [--mb 10] [--runs 5] [--read-only]

Builds one interchange of 850 purchase orders (one group, ~40 segments per order, PO1 lines with PID and
composite-free elements, plus a composite in every N1 loop's PER so the component path is exercised) of
about --mb megabytes, then times, as the median of --runs runs:
  read       nodes.edi.reader.read: bytes -> tokens -> envelopes, every count and control number checked;
  records    read plus one JSON record per set (nodes.edi.structure's structured 850 body);
  write      nodes.edi.writer.write: those records -> X12 text (bodies back to segments, envelopes, counts);
  write raw  the same with generic bodies ({"segments": [...]}): the codec's writer without the 850 table.
The written text is read back and must give the same records, so nothing is timed that does not work.
Rates are given per wall-clock second and per CPU second of this process (on a machine shared with other
work the CPU figure is the steadier one).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from nodes.edi import reader, records, structure, writer  # noqa: E402

ISA = ("ISA*00*          *00*          *ZZ*BENCHBUYER     *ZZ*CROSSDOCK      *240101*1200*U*00401*000000001*0*P*>~\n"
       "GS*PO*BENCHBUYER*CROSSDOCK*20240101*1200*1*X*004010~\n")


def order(number: int, lines: int = 12) -> list[str]:
    control = f"{number:04d}"
    body = [f"ST*850*{control}", f"BEG*00*SA*PO{number:08d}**20240101", "CUR*BY*USD", f"REF*DP*{number % 997:03d}",
            "REF*IA*VENDOR42", "DTM*002*20240115", "TD5****ZZ*UPS GROUND",
            "N1*ST*DISTRIBUTION CENTER 7*92*DC07", "N3*1200 INDUSTRIAL PARKWAY", "N4*COLUMBUS*OH*43215*US",
            "PER*IC*RECEIVING DESK*TE*6145550100*EX*C040>12"]
    for line in range(1, lines + 1):
        body += [f"PO1*{line}*{line * 3}*EA*{line * 1.25:.2f}**UP*{70000000000 + number * 100 + line:012d}"
                 f"*VN*ITEM-{line:04d}", f"PID*F****WIDGET MODEL {line} BLUE", "PO4*12*1*EA"]
    body += [f"CTT*{lines}"]
    body.append(f"SE*{len(body) + 1}*{control}")
    return body


def interchange(megabytes: float) -> tuple[bytes, int]:
    parts = [ISA]
    size, sets, segments = len(ISA), 0, 2
    while size < megabytes * 1024 * 1024:
        sets += 1
        text = "~\n".join(order(sets)) + "~\n"
        parts.append(text)
        size += len(text)
        segments += text.count("~")
    parts.append(f"GE*{sets}*1~\nIEA*1*000000001~\n")
    return "".join(parts).encode("ascii"), segments + 2


def timed(function, runs: int) -> tuple[float, float, object]:
    """Median wall-clock and CPU seconds of runs calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), result


def report(name: str, segments: int, wall: float, cpu: float, note: str = "") -> None:
    print(f"{name:<10} {segments / wall:>10,.0f} segments/s  {segments / cpu:>10,.0f} segments/CPU-s  "
          f"({wall:.2f} s{note})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--read-only", action="store_true", help="time the read only (a quick figure)")
    args = parser.parse_args()
    data, segments = interchange(args.mb)
    print(f"interchange: {len(data) / 1e6:.1f} MB, {segments} segments; median of {args.runs} runs")
    wall, cpu, reading = timed(lambda: reader.read(data), args.runs)
    assert not reading.all_errors(), reading.all_errors()[:3]
    report("read", segments, wall, cpu)
    if args.read_only:
        return
    wall, cpu, items = timed(lambda: records.records(reader.read(data)), args.runs)
    report("records", segments, wall, cpu, f", read + {len(items)} JSON records")
    wall, cpu, text = timed(lambda: writer.write(items), args.runs)
    report("write", segments, wall, cpu, f", {len(text) / 1e6:.1f} MB")
    again = reader.read(text)
    assert not again.all_errors() and records.records(again) == items, "the written interchange reads differently"
    raw = [dict(item, body={"segments": tset.segments}) for item, (_, _, tset) in zip(items, reading.sets())]
    wall, cpu, text = timed(lambda: writer.write(raw), args.runs)
    report("write raw", segments, wall, cpu, f", {len(text) / 1e6:.1f} MB")
    assert records.records(reader.read(text)) == [dict(item, body=structure.to_body("850", "004010", item["body"][
        "segments"])) for item in raw], "the raw written interchange reads differently"
    print("round trip: both written interchanges read back to the same records")


if __name__ == "__main__":
    main()
