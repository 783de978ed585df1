"""Transaction-set bodies: segments -> structured body -> the same segments, for what the tables expect and
for what they do not (unknown, out of order, repeated once-only segments, odd HL trees); bad bodies name
their path; the tables and the JSON Schemas in flows/x12 agree."""
from __future__ import annotations

import functools
import json
import pathlib

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodes.edi.sets import TABLES, table_version
from nodes.edi.sets.schema import documents, outline, render, set_ids
from nodes.edi.sets.segments import SEGMENTS
from nodes.edi.sets.table import Loop
from nodes.edi.structure import MAX_DEPTH, MAX_LEVELS, BodyError, from_body, to_body

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "flows" / "x12"


def seg(text: str) -> list:
    """A segment from `ID*a*b>c` shorthand (`>` splits components)."""
    return [e.split(">") if ">" in e else e for e in text.split("*")]


def segs(text: str) -> list[list]:
    return [seg(s) for s in text.split("~") if s]


def round_trip(set_id: str, version: str, segments: list[list]) -> dict:
    body = to_body(set_id, version, segments)
    # through JSON and with keys reordered (as jsonb would), the body must write back the same segments
    stored = json.loads(json.dumps(body, sort_keys=True))
    assert from_body(set_id, version, stored) == segments
    validator(set_id if "segments" not in body else "generic").validate(stored)
    return body


@functools.lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8")))


PO = segs("BEG*00*SA*PO123**20240101~REF*DP*12~REF*IA*99~DTM*002*20240110~N1*ST*Store 9*92*0009~N3*1 Main St~"
          "N4*Springfield*IL*62701*US~PO1*1*10*EA*2.5**UP*012345678905~PID*F****Widget~PO1*2*1*CA*30**VN*X-1~"
          "CTT*2~AMT*TT*55")


def test_an_850_reads_as_named_elements_loops_and_arrays():
    body = round_trip("850", "004010", PO)
    assert body["BEG"] == {"BEG01": "00", "BEG02": "SA", "BEG03": "PO123", "BEG05": "20240101"}
    assert [r["REF01"] for r in body["REF"]] == ["DP", "IA"]
    party = body["N1_loop"][0]
    assert party["N1"]["N104"] == "0009" and party["N3"] == [{"N301": "1 Main St"}] and party["N4"]["N403"] == "62701"
    assert [line["PO1"]["PO107"] for line in body["PO1_loop"]] == ["012345678905", "X-1"]
    assert body["PO1_loop"][0]["PID"] == [{"PID01": "F", "PID05": "Widget"}]
    assert body["CTT"] == {"CTT01": "2"} and body["AMT"] == {"AMT01": "TT", "AMT02": "55"}
    assert "extra" not in body


def test_the_same_body_in_005010_and_under_group_versions_that_map_to_a_table():
    assert to_body("850", "005010", PO) == to_body("850", "004010", PO)
    for version in ("004010VICS", "004030", "003010", "00401"):
        assert to_body("850", version, PO) == to_body("850", "004010", PO)
    assert table_version("005010X230") == "005010" and table_version("006020") == "005010"
    assert table_version("21") is None and table_version("") is None and table_version("00²010") is None


def test_unknown_sets_and_versions_keep_the_generic_body():
    segments = segs("BPR*C*150*C*ACH~NTE*ZZZ*note~ZZ1*a>b*c")
    assert round_trip("820", "004010", segments) == {"segments": segments}
    assert round_trip("850", "21", PO) == {"segments": PO}
    assert from_body("850", "004010", {"segments": PO}) == PO  # a generic body writes under any version


def test_unknown_out_of_order_and_repeated_segments_stay_where_they_were():
    segments = segs("ZZZ*first~BEG*00*SA*1**20240101~BEG*00*SA*2~DTM*002*1~REF*DP*1~PO1*1*1*EA~XX1*x~"
                    "PID*F****a~PO1*2*1*EA~CTT*2~CUR*BY*USD~CTT*9")
    body = round_trip("850", "004010", segments)
    assert [(e["at"], e["segment"][0]) for e in body["extra"]] == [(0, "ZZZ"), (2, "BEG"), (4, "REF"), (10, "CUR"),
                                                                    (11, "CTT")]
    assert body["PO1_loop"][0]["extra"] == [{"at": 1, "segment": ["XX1", "x"]}]
    assert body["PO1_loop"][0]["PID"] == [{"PID01": "F", "PID05": "a"}]  # after the unknown one, still in place


def test_elements_keep_interior_empties_a_kept_trailing_empty_composites_and_repeats():
    segments = [["BEG", "00", "", "PO1"], ["REF", "ZZ", ""], ["PO1", "1", "2", "EA", "", "", ["UP", "1", ""]],
                ["PID", "F", "", "", "", {"repeat": ["a", ["b", "c"]]}], ["CTT"]]
    body = round_trip("850", "005010", segments)
    assert body["BEG"] == {"BEG01": "00", "BEG03": "PO1"}
    assert body["REF"] == [{"REF01": "ZZ", "REF02": ""}]
    assert body["CTT"] == {}


def test_an_856_nests_its_hl_levels_shipment_order_pack_item():
    segments = segs("BSN*00*S1*20240101*1200*0001~HL*1**S~TD1*CTN*2~TD5*B*2*UPSN*U~REF*BM*B1~HL*2*1*O~PRF*PO9~"
                    "HL*3*2*P~MAN*GM*00012345600000000018~HL*4*3*I~LIN**UP*012345678905~SN1**5*EA~HL*5*3*I~"
                    "LIN**UP*2~SN1**1*EA~HL*6*2*P~MAN*GM*2~HL*7*6*I~LIN**UP*3~SN1**2*EA~CTT*7")
    body = round_trip("856", "004010", segments)
    (shipment,) = body["HL_loop"]
    assert shipment["HL"]["HL03"] == "S" and shipment["TD5"][0]["TD503"] == "UPSN"
    (order,) = shipment["HL_loop"]
    assert order["PRF"] == {"PRF01": "PO9"}
    packs = order["HL_loop"]
    assert [p["MAN"][0]["MAN02"] for p in packs] == ["00012345600000000018", "2"]
    assert [[i["LIN"]["LIN03"] for i in p["HL_loop"]] for p in packs] == [["012345678905", "2"], ["3"]]
    assert body["CTT"] == {"CTT01": "7"}


def test_an_856_without_packs_nests_shipment_order_item():
    segments = segs("BSN*00*S1*20240101*1200~HL*1**S~HL*2*1*O~PRF*PO1~HL*3*2*I~LIN**UP*1~SN1**1*EA~HL*4*2*I~"
                    "LIN**UP*2~SN1**1*EA~CTT*4")
    body = round_trip("856", "005010", segments)
    items = body["HL_loop"][0]["HL_loop"][0]["HL_loop"]
    assert [i["HL"]["HL03"] for i in items] == ["I", "I"]


def test_hl_levels_whose_parent_is_not_on_the_open_path_stay_in_order():
    # HL 4 names HL 2 after HL 3 has opened another branch; HL 9's parent never occurs; the last one has no HL01
    # and names HL 3, which is no longer open: each goes to the top level, in its place
    segments = segs("BSN*00*1~HL*1**S~HL*2*1*O~HL*3*1*O~HL*4*2*I~HL*9*8*I~HL**3*I~CTT*6")
    body = round_trip("856", "004010", segments)
    assert [n["HL"].get("HL01") for n in body["HL_loop"]] == ["1", "4", "9", None]


def test_a_deep_hl_chain_is_bounded_and_still_writes_back():
    chain = [["BSN", "00", "1"]]
    for n in range(1, 100):
        chain += [["HL", str(n), str(n - 1) if n > 1 else "", "I"], ["N1", "ST", "x"], ["LM", "AG"], ["LQ", "0"]]
    body = round_trip("856", "004010", chain)

    def depth(nodes, level=1):
        return max((depth(n.get("HL_loop", []), level + 1) for n in nodes), default=level - 1)
    assert depth(body["HL_loop"]) == MAX_LEVELS


@pytest.mark.parametrize("set_id,text", [
    ("855", "BAK*00*AD*PO1*20240101~REF*CO*9~N1*ST*S~PO1*1*2*EA*3**VC*A~ACK*IA*2*EA~PO1*2*1*EA~ACK*IB*1*EA*068*"
            "20240201~CTT*2"),
    ("810", "BIG*20240101*INV1**PO1~REF*IA*5~N1*RE*R~N3*x~N4*c*s*1~ITD*01*3*1**10**30~IT1*1*2*EA*3**UP*1~PID*F****a~"
            "SAC*C*D240***100~TDS*600~CAD*M****UPSN~ISS*2*EA~CTT*1"),
    ("940", "W05*N*D1*PO1~N1*ST*S~N3*a~N4*c*s*1~N9*IA*1~G62*10*20240101~NTE*WHI*x~W66*PP*M~LX*1~W01*2*EA**VN*A~"
            "G69*desc~N9*LI*1~W20*1~LX*2~W01*1*CA**VN*B~W76*3"),
    ("945", "W06*N*D1*20240101*S1~N1*ST*S~G62*11*20240102~W27*M*UPSN~LX*1~N9*LI*1~W12*CC*2*2*0*EA**VN*A~G69*x~W03*2"),
    ("846", "BIA*00*DD*1*20240101~DTM*007*20240101~N1*SU*S~LIN**VP*A~PID*F****a~QTY*33*5*EA~UIT*EA*2~QTY*29*1~"
            "LIN**VP*B~QTY*33*0~CTT*2"),
    ("997", "AK1*PO*12~AK2*850*0001~AK3*PO1*5**8~AK4*2*380*1*x~AK5*R*5~AK2*850*0002~AK5*A~AK9*P*2*2*1"),
])
@pytest.mark.parametrize("version", ["004010", "005010"])
def test_every_set_reads_into_its_loops_and_back(set_id, text, version):
    body = round_trip(set_id, version, segs(text))
    assert "extra" not in json.dumps(body), body
    first = TABLES[(set_id, "004010")].entries[0].key
    assert first in body


def test_a_997_in_005010_takes_ctx_in_the_ak3_loop():
    segments = segs("AK1*HC*1*005010X222A1~AK2*837*1~AK3*NM1*8*2010BB*8~CTX*CLM01>1~AK4*2*66*1~AK5*R*5~AK9*R*1*1*0")
    body = round_trip("997", "005010X230", segments)
    note = body["AK2_loop"][0]["AK3_loop"][0]
    assert note["CTX"] == [{"CTX01": ["CLM01", "1"]}] and note["AK4"][0]["AK402"] == "66"
    assert "extra" in json.dumps(round_trip("997", "004010", segments))  # 004010 has no CTX: kept aside


@pytest.mark.parametrize("body,path", [
    ([], "body"),
    ({"BEG": "x"}, "BEG"),
    ({"BEG": {"BEG1": "00"}}, "BEG"),
    ({"BEG": {"BEG00": "00"}}, "BEG"),
    ({"BEG": {"BEG01": 5}}, "BEG.BEG01"),
    ({"REF": {"REF01": "x"}}, "REF"),
    ({"XYZ": {"XYZ01": "a"}}, "XYZ"),
    ({"PO1_loop": [{"PID": [{"PID05": "a"}]}]}, "PO1_loop[0]"),
    ({"PO1_loop": [{"PO1": {"PO101": "1"}, "PID": [{"PID05": ["a", 1]}]}]}, "PO1_loop[0].PID[0].PID05"),
    ({"extra": [{"at": -1, "segment": ["X"]}]}, "extra[0]"),
    ({"segments": [["BEG"], []]}, "segments[1]"),
    ({"segments": "BEG"}, "segments"),
    ({"segments": [["REF", {"repeat": [{"repeat": ["a"]}]}]]}, "segments[0][1].repeat[0]"),
])
def test_a_body_that_cannot_be_written_names_its_path(body, path):
    with pytest.raises(BodyError) as caught:
        from_body("850", "004010", body)
    assert caught.value.path == path


def test_a_structured_body_of_an_unknown_set_is_refused_and_nesting_is_bounded():
    with pytest.raises(BodyError):
        from_body("820", "004010", {"BPR": {"BPR01": "C"}})
    node: dict = {"HL": {"HL01": "1"}}
    for _ in range(MAX_DEPTH + 2):
        node = {"HL": {"HL01": "1"}, "HL_loop": [node]}
    with pytest.raises(BodyError, match="deeper"):
        from_body("856", "004010", {"HL_loop": [node]})


def test_to_body_never_fails_on_odd_segments():
    odd = [[], ["beg", "x"], [["A", "B"], "c"], ["PO1", "1"]]
    body = to_body("850", "004010", odd)
    assert [e["segment"] for e in body["extra"]] == odd[:3]


def test_tables_name_each_key_once_per_place_and_every_segment():
    def walk(entries, where):
        keys = [e.key for e in entries]
        assert len(keys) == len(set(keys)), f"{where}: {keys}"
        for entry in entries:
            if isinstance(entry, Loop):
                walk(entry.entries, f"{where}.{entry.key}")
            else:
                assert entry.id in SEGMENTS, f"{where}.{entry.id} has no name"
    for (set_id, version), table in TABLES.items():
        assert table.set_id == set_id and table.version == version
        walk(table.entries, f"{set_id}/{version}")
    assert {v for _, v in TABLES} == {"004010", "005010"}
    assert {s for s, _ in TABLES} == {"850", "855", "856", "810", "940", "945", "846", "997"}


def test_the_schemas_in_flows_x12_are_the_ones_the_tables_give():
    expected = documents()
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(expected), \
        "regenerate: python -m nodes.edi.sets.schema flows/x12"
    for name in ("997.json", "856.json", "generic.json"):  # every construct the generator writes, HL recursion
        jsonschema.Draft202012Validator.check_schema(expected[name])  # included (all nine take ~5 s)
    for name, document in expected.items():
        assert (SCHEMAS / name).read_text(encoding="utf-8") == render(document), \
            f"flows/x12/{name} is stale: python -m nodes.edi.sets.schema flows/x12"


def test_the_schema_rejects_what_from_body_refuses():
    check = validator("850")
    assert not check.is_valid({"BEG": {"BEG1": "x"}})
    assert not check.is_valid({"PO1_loop": [{"PID": []}]})
    assert not check.is_valid({"XYZ": {}})
    assert check.is_valid({"BEG": {"BEG01": "00", "BEG13": ["a", "b"]}, "extra": [{"at": 0, "segment": ["X", "1"]}]})


def test_docs_edi_shows_each_sets_outline_and_a_true_856_example():
    doc = (ROOT / "docs" / "edi.md").read_text(encoding="utf-8")
    for set_id in set_ids():
        assert f"```\n{outline(set_id)}\n```" in doc, f"docs/edi.md: the {set_id} outline is stale"
    example = doc[doc.index("## An 856, read"):]
    text = example.split("`")[1]
    shown = json.loads(example[example.index("```json") + 7:example.rindex("```")])
    assert to_body("856", "004010", [s.split("*") for s in text.split("~")]) == shown


def test_a_segment_with_more_elements_than_keys_can_name_is_kept_whole():
    wide = ["REF", "ZZ"] + ["x"] * 1200
    body = round_trip("850", "004010", [["BEG", "00"], wide])
    assert body["extra"] == [{"at": 1, "segment": wide}]


def test_a_body_built_of_list_and_dict_subclasses_writes_like_plain_json():
    class JList(list):  # what a JSONata mapping returns
        pass

    class JDict(dict):
        pass
    body = to_body("850", "004010", PO)
    built = JDict(body, REF=JList(JDict(r) for r in body["REF"]),
                  PO1_loop=JList(JDict(line, PID=JList(line.get("PID", []))) for line in body["PO1_loop"]))
    assert from_body("850", "004010", built) == PO


def table_ids(entries) -> set[str]:
    return {i for e in entries for i in (table_ids(e.entries) if isinstance(e, Loop) else {e.id})}


ELEMENT = st.one_of(st.sampled_from(["", "", "1", "EA", "Z"]), st.text(max_size=3),
                    st.lists(st.sampled_from(["", "A", "1"]), min_size=2, max_size=3),
                    st.builds(lambda r: {"repeat": r}, st.lists(st.sampled_from(["a", "b"]), max_size=2)))
SEGMENT_IDS = st.sampled_from(sorted(set().union(*(table_ids(t.entries) for t in TABLES.values()))) + ["ZZZ", "X1"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(TABLES)), st.lists(st.builds(lambda sid, rest: [sid, *rest], SEGMENT_IDS,
                                                            st.lists(ELEMENT, max_size=5)), max_size=40))
def test_any_segments_of_any_set_write_back_and_validate(key, segments):
    set_id, version = key
    round_trip(set_id, version, segments)
