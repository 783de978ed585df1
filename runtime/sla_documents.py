"""The SLA report (runtime/sla.py) as the files a customer is sent: CSV (the csv module; one figure a row, so a
spreadsheet or a script reads it the same way) and PDF (fpdf2, pure Python; the partner's brand in the header).
Both are written from `rows`, so the two files always hold the same figures."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from fpdf import FPDF
from fpdf.enums import XPos, YPos

COLUMNS = ("section", "name", "metric", "value")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula
PERCENT = ("availability", "overall", "success_rate", "fulfillment_accuracy", "backorder_rate",
           "on_time_shipment_rate", "return_rate")


def rows(report: dict) -> Iterator[tuple[str, str, str, Any]]:
    """(section, name, metric, value) of every figure, in the order the PDF shows them."""
    for metric in ("workspace", "workspace_name", "month", "from", "to", "brand", "partner", "generated_at"):
        yield "report", "", metric, report[metric]
    availability = report["availability"]
    yield "availability", "all endpoints", "calls", availability["calls"]
    yield "availability", "all endpoints", "overall", availability["overall"]
    for e in availability["endpoints"]:
        name = f"{e['system']}: {e['endpoint']}"
        for metric in ("calls", "unavailable", "availability"):
            yield "availability", name, metric, e[metric]
        for cause, count in e["by_cause"].items():
            yield "availability", name, f"down_{cause}", count
    for metric, value in availability["intake"].items():
        yield "intake", "webhook intake", metric, value
    runs = report["runs"]
    for metric in ("total", "succeeded", "failed", "unfinished", "success_rate"):
        yield "runs", "all flows", metric, runs[metric]
    for f in runs["by_flow"]:
        for metric in ("total", "succeeded", "failed", "success_rate"):
            yield "runs", f"{f['name']} ({f['flow_id']})", metric, f[metric]
    letters = report["exceptions"]
    for metric in ("opened", "resolved", "open_at_end", "resolve_median_s", "resolve_p95_s"):
        yield "exceptions", "all", metric, letters[metric]
    for kind, count in letters["by_class"].items():
        yield "exceptions", "opened by class", kind, count
    for resolution, count in letters["by_resolution"].items():
        yield "exceptions", "resolved by", resolution, count
    for metric, value in report["kpis"].items():
        yield "kpis", "orders placed in the month", metric, value
    for name, text in report["definitions"].items():
        yield "definitions", name, "definition", text


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(report):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_pdf(report: dict) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin(f"{report['brand']} SLA report {report['month']}: {report['workspace_name']}"))
    pdf.set_creator(_latin(report["brand"]))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    _line(pdf, report["brand"], 9)
    pdf.set_font("Helvetica", "", 11)
    _line(pdf, f"SLA report {report['month']}  -  {report['workspace_name']} ({report['workspace']})", 6)
    partner = f"  -  managed by {report['partner']}" if report.get("partner") else ""
    _line(pdf, f"{report['from']} to {report['to']} (UTC){partner}", 6)
    section = None
    for sec, name, metric, value in rows(report):
        if sec in ("report", "definitions"):
            continue
        if sec != section:
            section = sec
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 12)
            _line(pdf, sec.capitalize(), 7)
            pdf.set_font("Helvetica", "", 9)
        pdf.cell(95, 5, _latin(name)[:70])
        pdf.cell(55, 5, _latin(metric))
        pdf.cell(0, 5, _latin(_shown(metric, value)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    _line(pdf, "Definitions", 7)
    pdf.set_font("Helvetica", "", 8)
    for name, text in report["definitions"].items():
        pdf.multi_cell(0, 4, _latin(f"{name}: {text}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "I", 8)
    _line(pdf, f"generated {report['generated_at']}", 5)
    return bytes(pdf.output())


def _line(pdf: FPDF, text: str, height: float) -> None:
    pdf.cell(0, height, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _shown(metric: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and metric in PERCENT:
        return f"{value * 100:.2f} %"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


def _latin(text: Any) -> str:
    """The PDF's core fonts hold Latin-1 only: other characters of a name are shown as '?'."""
    return str(text).encode("latin-1", "replace").decode("latin-1")
