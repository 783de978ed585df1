"""The local check over all 40 shared X12 samples (../shared/samples/edi, outside the repository: the GPL and
CDDL ones may not be copied). It runs where that folder exists and prints its tally: read, round-tripped,
rejected with a named segment. Every file must read without an exception; a file without faults must
round-trip (read -> write -> read gives the same records); a file with faults must name segment and
position; and the files SOURCES.md marks MALFORMED must be the rejected ones."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from nodes.edi import reader, records, writer

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "samples"
SAMPLES = sorted((SHARED / "edi").glob("*.edi"))
# rejected although SOURCES.md does not say MALFORMED, with the fault that rejects them
ALSO_REJECTED = {
    "940_oopfactory_1.edi": "ge_control_number_mismatch",  # "control-number quirk": GE02/IEA02 differ from GS06/ISA13
}

pytestmark = pytest.mark.skipif(not SAMPLES, reason=f"the shared samples are not at {SHARED / 'edi'}")


def outcome(sample: Path) -> tuple[str, list]:
    reading = reader.read(sample.read_bytes())
    errors = reading.all_errors()
    if errors:
        return "rejected", errors
    items = records.records(reading)
    again = reader.read(writer.write(items))
    if again.all_errors() or records.records(again) != items:
        return "round trip failed", []
    return "round-tripped", []


def test_all_shared_samples(capsys):
    rows = (SHARED / "SOURCES.md").read_text(encoding="utf-8")
    malformed = set(re.findall(r"^\| `([^`]+\.edi)` \|[^\n]*MALFORMED", rows, flags=re.M))
    tally = {"read": 0, "round-tripped": 0, "rejected": 0}
    lines, wrong = [], []
    for sample in SAMPLES:
        result, errors = outcome(sample)
        tally["read"] += 1
        if result == "round-tripped":
            tally["round-tripped"] += 1
            lines.append(f"  {sample.name:<24} round-tripped")
            if sample.name in malformed:
                wrong.append(f"{sample.name} is MALFORMED but was accepted")
        elif result == "rejected":
            first = errors[0]
            named = all(error.segment and error.position for error in errors)
            tally["rejected"] += named
            lines.append(f"  {sample.name:<24} rejected: {first.code} at {first.segment} {first.position}"
                         f"{' ' + first.element if first.element else ''} ({len(errors)} faults)")
            if not named:
                wrong.append(f"{sample.name}: a fault names no segment or position")
            if sample.name not in malformed and ALSO_REJECTED.get(sample.name) not in {e.code for e in errors}:
                wrong.append(f"{sample.name} was rejected ({first.code}) but is not MALFORMED")
        else:
            wrong.append(f"{sample.name}: {result}")
    with capsys.disabled():
        print(f"\nshared X12 samples: {len(SAMPLES)} files, read {tally['read']}, round-tripped "
              f"{tally['round-tripped']}, rejected with a named segment {tally['rejected']}")
        print("\n".join(lines))
    assert len(SAMPLES) == 40
    assert wrong == []
    assert tally["read"] == tally["round-tripped"] + tally["rejected"] == 40
