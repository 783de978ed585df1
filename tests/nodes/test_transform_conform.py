from nodes import transform_conform as conform

ORDER = {"number": "1", "customer_no": "C-1", "source_id": 5001001,
         "ship_to": {"name": "n", "address1": "a", "city": "c", "postal_code": "1", "country": "US"},
         "lines": [{"line_no": 1, "sku": "x", "quantity": 2}]}


def run(message, ctx):
    return list(conform.run(conform.Config().load({"record": "order"}), message, ctx))


def test_a_conforming_message_goes_on_unchanged(ctx):
    assert run(ORDER, ctx) == [("out", ORDER)]


def test_a_reject_keeps_the_message_fields_and_adds_the_rejection(ctx):
    bad = {**ORDER, "lines": [{"line_no": 1, "sku": "x", "quantity": -3}]}
    [(port, message)] = run(bad, ctx)
    assert port == "rejected" and message["source_id"] == 5001001
    assert message["rejection"]["class"] == "invalid_quantity" and message["rejection"]["field"] == "lines[0].quantity"
    assert message["rejection"]["record"] == "order" and len(message["rejection"]["problems"]) == 1


def test_a_message_that_is_no_object_is_rejected_too(ctx):
    [(port, message)] = run([1, 2], ctx)
    assert port == "rejected" and message["message"] == [1, 2]
    assert message["rejection"]["class"] == "invalid_record"


def test_the_record_schema_is_built_once_for_many_messages(ctx, monkeypatch):
    from flows import canonical
    built = []

    class Counted(canonical.RECORDS["order"]):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setitem(canonical.RECORDS, "order", Counted)
    for n in range(3):
        assert run({**ORDER, "number": str(n)}, ctx)[0][0] == "out"
    assert len(built) == 1  # canonical.check alone builds one per message
    [(port, message)] = run({**ORDER, "lines": [{"line_no": 1, "sku": "x", "quantity": -3}]}, ctx)
    assert port == "rejected" and message["rejection"]["field"] == "lines[0].quantity"
