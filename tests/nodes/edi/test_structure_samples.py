"""Every transaction set of the real sample files gets a structured body (or the generic one) that writes back
to the very segments read and validates against its JSON Schema in flows/x12.

The permissive (MIT, Apache-2.0, CC-BY) samples are the project's fixtures (tests/fixtures/edi); until they are
copied there, they are read from ../shared/samples/edi. The GPL and CDDL ones are read from ../shared only,
by the local check at the bottom, which runs where that folder exists."""
from __future__ import annotations

import functools
import json
import pathlib
import re

import jsonschema
import pytest

from nodes.edi.reader import read
from nodes.edi.structure import from_body, to_body

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "edi"
SHARED = ROOT.parent / "shared" / "samples"
PERMISSIVE = re.compile(r"\b(MIT|Apache-2\.0|CC-BY)")


def shared_samples(permissive: bool) -> list[pathlib.Path]:
    """The ../shared samples whose SOURCES.md licence is (or is not, with permissive=False: all) permissive."""
    if not (SHARED / "SOURCES.md").exists():
        return []
    rows = re.findall(r"^\| `([^`]+\.edi)` \|[^|]*\|[^|]*\| ([^|]*) \|", (SHARED / "SOURCES.md").read_text(),
                      re.MULTILINE)
    return [SHARED / "edi" / name for name, licence in rows if not permissive or PERMISSIVE.search(licence)]


def fixture_samples() -> list[pathlib.Path]:
    copied = sorted(FIXTURES.glob("*.edi")) if FIXTURES.is_dir() else []
    return copied or shared_samples(permissive=True)


@functools.lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft202012Validator:
    path = ROOT / "flows" / "x12" / f"{name}.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def check_file(path: pathlib.Path) -> dict[str, int]:
    """Round-trip and validate every set of a file (also those the reader faults); the tally of body kinds."""
    tally = {"structured": 0, "generic": 0, "with_extra": 0}
    reading = read(path.read_bytes())
    for _, group, tset in reading.sets():
        version = group.header.get("version", "")
        body = to_body(tset.set_id, version, tset.segments)
        stored = json.loads(json.dumps(body, sort_keys=True))
        assert from_body(tset.set_id, version, stored) == tset.segments, f"{path.name} {tset.set_id}"
        kind = "generic" if "segments" in body else tset.set_id
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}"
                  for e in validator(kind).iter_errors(stored)]
        assert not errors, f"{path.name} {tset.set_id} {tset.control_number}: {errors[:3]}"
        tally["generic" if kind == "generic" else "structured"] += 1
        tally["with_extra"] += '"extra"' in json.dumps(body)
    return tally


SAMPLES = fixture_samples()


@pytest.mark.skipif(not SAMPLES, reason="no EDI samples: neither tests/fixtures/edi nor ../shared/samples/edi")
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_set_of_a_permissive_sample_round_trips_validates_and_reads_structured(path):
    tally = check_file(path)
    # each set of these files is one of the eight with a table, in a version that maps to one, in the order
    # its table expects
    assert tally["structured"] >= 1 and tally["generic"] == 0 and tally["with_extra"] == 0, tally


@pytest.mark.skipif(not shared_samples(permissive=False), reason="../shared/samples/edi is not here (local check)")
def test_all_shared_samples_round_trip_and_validate():
    paths = shared_samples(permissive=False)
    tally = {"structured": 0, "generic": 0, "with_extra": 0}
    for path in paths:
        for key, value in check_file(path).items():
            tally[key] += value
    assert len(paths) == 40 and tally["structured"] >= 60, tally
