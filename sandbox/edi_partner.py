"""The simulated EDI trading partner at /edi/api: a mailbox that keeps every X12 interchange posted to it (the
855s, 856s and 997s Crossdock sends), and the partner's own documents (850s), which it posts to a Crossdock webhook
on request, each with a fresh interchange control number as a real partner's translator would.

It reads only the envelope (sender, receiver, ISA13, the sets' ids) to list what it got; it never validates X12,
so a test sees exactly what Crossdock sent.
"""
from __future__ import annotations

import hashlib
import hmac
import re

import requests
from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import select, update

from sandbox import admin, clock, rest, store
from sandbox.rest import Problem

bp = Blueprint("edi", __name__)
SYSTEM = "edi"
admin.add_routes(bp, SYSTEM)

TIMEOUT_S = 10
MAX_HEADERS = 20
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
EDI_TYPES = ("application/edi-x12", "text/plain")


def render_problem(problem: Problem) -> dict:
    result = {"error": {"code": problem.code, "message": problem.message}}
    if problem.field:
        result["error"]["field"] = problem.field
    return result


def envelope(text: str) -> dict:
    """Sender, receiver and control number from the ISA, and the transaction sets' ids (ST01) in order; empty
    values when the text is no interchange."""
    found = {"sender_id": None, "receiver_id": None, "control_number": None, "sets": []}
    start = text.lstrip("\ufeff \t\r\n")
    if not start.startswith("ISA") or len(start) < 106:
        return found
    separator = start[3]
    isa = start[:106].split(separator)
    if len(isa) != 17:
        return found
    found.update(sender_id=isa[6].strip(), receiver_id=isa[8].strip(), control_number=isa[13].strip())
    terminator = start[105]
    for segment in start.split(terminator) if terminator not in ("\r", "\n") else start.splitlines():
        segment = segment.strip()
        if segment.startswith("ST" + separator):
            found["sets"].append(segment.split(separator)[1][:3])
    return found


def renumber(text: str, control_number: int) -> str:
    """The interchange with ISA13 and IEA02 set to control_number; unchanged unless the text is one interchange
    whose ISA is the standard 106 characters (else the number's place is not known)."""
    start = text.lstrip("\ufeff \t\r\n")
    if not start.startswith("ISA") or len(start) < 106 or len(start[:106].split(start[3])) != 17:
        return text
    separator, terminator, number = start[3], start[105], f"{control_number:09d}"
    isa = start[:106].split(separator)
    isa[13] = number
    tail = start[106:]
    if re.search(rf"[{re.escape(terminator)}\r\n]\s*ISA{re.escape(separator)}", tail):
        return text  # several interchanges
    at = tail.rfind("IEA" + separator)
    after_count = tail.find(separator, at + 4) + 1 if at >= 0 else 0
    if not after_count:
        return text
    end = after_count
    while end < len(tail) and tail[end] not in (terminator, separator, "\r", "\n"):
        end += 1
    return separator.join(isa) + tail[:after_count] + number + tail[end:]


def _text_body() -> str:
    """The X12 of the request: its body as text, or `x12` of a JSON body (what a JSON-only client can send)."""
    if request.is_json:
        x12 = rest.body().get("x12")
        if not isinstance(x12, str) or not x12:
            raise Problem(422, "invalid_field", "A JSON body holds the interchange as text in 'x12'.", "x12")
        return x12
    raw = request.get_data(cache=False)
    if not raw:
        raise Problem(400, "empty_body", "Post the X12 interchange as the request body.")
    charset = request.mimetype_params.get("charset") or "utf-8"
    try:
        return raw.decode(charset)
    except (LookupError, UnicodeError):
        return raw.decode("latin-1")  # X12's extended character set; every byte is a character


def _received(row, with_text: bool = False) -> dict:
    shown = {"id": row["id"], "sender_id": row["sender_id"], "receiver_id": row["receiver_id"],
             "control_number": row["control_number"], "sets": (row["sets"] or "").split(",") if row["sets"] else [],
             "size": row["size"], "content_type": row["content_type"], "received_at": row["received_at"]}
    if with_text:
        shown["text"] = row["doc"]["text"]
    return shown


@bp.post("/api/inbox")
def receive():
    """What a partner's EDI endpoint does: take the interchange and keep it. 201 with what was read off its envelope."""
    text = _text_body()
    found = envelope(text)
    with store.transaction(rest.engine()) as conn:
        row_id = conn.execute(store.edi_received.insert().values(
            sender_id=found["sender_id"], receiver_id=found["receiver_id"], control_number=found["control_number"],
            sets=",".join(found["sets"]), size=len(text), content_type=request.content_type, doc={"text": text},
            received_at=clock.stamp(conn, SYSTEM))).inserted_primary_key[0]
        row = conn.execute(select(store.edi_received).where(store.edi_received.c.id == row_id)).mappings().one()
    response = jsonify({"received": _received(row)})
    response.status_code = 201
    return response


@bp.get("/api/inbox")
def list_received():
    """Received interchanges, oldest first; `set=855` keeps those holding that set, `text=true` adds the X12."""
    table = store.edi_received
    query = select(table).order_by(table.c.id)
    if request.args.get("set"):
        wanted = request.args["set"]
        query = query.where((table.c.sets == wanted) | table.c.sets.like(f"{wanted},%")
                            | table.c.sets.like(f"%,{wanted}") | table.c.sets.like(f"%,{wanted},%"))
    if request.args.get("control_number"):
        query = query.where(table.c.control_number == request.args["control_number"])
    with_text = request.args.get("text") in ("1", "true")
    limit, offset = rest.query_int("limit", 50, 1, 500), rest.query_int("offset", 0, 0, 10**9)
    with store.transaction(rest.engine()) as conn:
        page = rest.page(conn, query, offset, limit)
    following = None
    if page.more:
        following = url_for(request.endpoint, _external=True, **{**request.args.to_dict(), "limit": limit,
                                                                  "offset": offset + limit})
    return jsonify({"items": [_received(r, with_text) for r in page.rows], "total": page.total, "limit": limit,
                    "offset": offset, "next": following})


@bp.get("/api/inbox/<int:received_id>")
def show_received(received_id: int):
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(store.edi_received).where(store.edi_received.c.id == received_id)).mappings().first()
    if row is None:
        raise Problem(404, "not_found", f"No received interchange {received_id}.")
    return jsonify({"received": _received(row, with_text=True)})


def _document(row) -> dict:
    return {"name": row["name"], "sets": (row["sets"] or "").split(",") if row["sets"] else [],
            "text": row["doc"]["text"], "updated_at": row["updated_at"]}


@bp.get("/api/documents")
def list_documents():
    """The documents the partner holds to send (seeded: 850-4711 and 850-4712)."""
    with store.transaction(rest.engine()) as conn:
        rows = conn.execute(select(store.edi_documents).order_by(store.edi_documents.c.name)).mappings().all()
    return jsonify({"items": [_document(r) for r in rows]})


@bp.put("/api/documents/<name>")
def put_document(name: str):
    """Keep an X12 document under `name` (the body, as text) for a later send; 201 new, 200 replaced."""
    if not NAME.match(name):
        raise Problem(400, "invalid_name", "A document name is letters, digits, '.', '_' and '-', at most 100.", "name")
    text = _text_body()
    sets = ",".join(envelope(text)["sets"])
    documents = store.edi_documents
    with store.transaction(rest.engine()) as conn:
        now = clock.stamp(conn, SYSTEM)
        exists = conn.execute(select(documents.c.name).where(documents.c.name == name)).first() is not None
        if exists:
            conn.execute(update(documents).where(documents.c.name == name).values(sets=sets, doc={"text": text},
                                                                                   updated_at=now))
        else:
            conn.execute(documents.insert().values(name=name, sets=sets, doc={"text": text}, updated_at=now))
        row = conn.execute(select(documents).where(documents.c.name == name)).mappings().one()
    response = jsonify({"document": _document(row)})
    response.status_code = 200 if exists else 201
    return response


@bp.post("/api/documents/<name>/send")
def send(name: str):
    """POST the document to `address` (a Crossdock webhook) as application/edi-x12 and record the answer.
    Body: {"address", "headers"?: {name: value} (an API key), "hmac_secret"?, "signature_header"?,
    "renumber"?: true (a fresh ISA13 from the partner's own sequence)}. 200 with the send, whatever the webhook
    answered (its status and body are in it); 502 when it could not be reached."""
    data = rest.body()
    address = rest.text(data, "address")
    if not address.startswith(("http://", "https://")) or len(address) > 2000:
        raise Problem(422, "invalid_field", "'address' must be an http(s) URL of at most 2000 characters.", "address")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 100 and len(v) <= 2000 for k, v in headers.items()):
        raise Problem(422, "invalid_field", f"'headers' must be an object of at most {MAX_HEADERS} text values.",
                      "headers")
    secret = rest.text(data, "hmac_secret", required=False)
    signature_header = rest.text(data, "signature_header", required=False, default="X-Crossdock-Signature")
    with store.transaction(rest.engine()) as conn:
        row = conn.execute(select(store.edi_documents).where(store.edi_documents.c.name == name)).mappings().first()
        if row is None:
            raise Problem(404, "not_found", f"No document {name!r}.")
        text = row["doc"]["text"]
        if data.get("renumber", True) is not False:
            text = renumber(text, store.next_number(conn, "edi.interchange", start=1001))
    body = text.encode("utf-8")
    sent_headers = {**headers, "Content-Type": "application/edi-x12"}
    if secret:
        sent_headers[signature_header] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    status, answer, error = None, None, None
    try:
        with requests.Session() as http:
            http.trust_env = False  # Crossdock is local here; a proxy from the environment must not intercept
            response = http.post(address, data=body, headers=sent_headers, timeout=TIMEOUT_S)
        status, answer = response.status_code, response.text[:2000]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    with store.transaction(rest.engine()) as conn:
        send_id = conn.execute(store.edi_sends.insert().values(
            document=name, address=address, control_number=envelope(text)["control_number"], response_status=status,
            error=error, doc={"text": text, "answer": answer, "sha256": hashlib.sha256(body).hexdigest()},
            sent_at=clock.stamp(conn, SYSTEM))).inserted_primary_key[0]
    result = {"id": send_id, "document": name, "address": address, "control_number": envelope(text)["control_number"],
              "response_status": status, "response": answer, "error": error, "text": text}
    if error:
        raise Problem(502, "unreachable", f"The webhook could not be reached: {error}", "address", send=result)
    return jsonify({"send": result})


@bp.get("/api/sends")
def list_sends():
    with store.transaction(rest.engine()) as conn:
        rows = conn.execute(select(store.edi_sends).order_by(store.edi_sends.c.id)).mappings().all()
    return jsonify({"items": [{"id": r["id"], "document": r["document"], "address": r["address"],
                               "control_number": r["control_number"], "response_status": r["response_status"],
                               "error": r["error"], "sent_at": r["sent_at"]} for r in rows]})
