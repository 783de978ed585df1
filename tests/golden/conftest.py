"""Golden flows: the bundled templates installed into a fresh workspace, run against the sandbox systems,
and the systems' state asserted afterwards. One sandbox per module, reset to its seed before each test."""
from __future__ import annotations

import json
import uuid

import pytest
import requests
from sqlalchemy import select

from designer import templates
from runtime.models import DeadLetter, Run, Step
from runtime.states import TERMINAL, RunStatus
from support import identity, wait_for


@pytest.fixture(scope="module")
def sandbox_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sandbox')}/sandbox.sqlite"


@pytest.fixture(scope="module")
def sandbox(sandbox_db):
    from sandbox.serve import start_in_thread

    server = start_in_thread("127.0.0.1", 0, sandbox_db)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


# What differs between two runs of the same story without meaning anything: times and record versions
# (an idempotent status change bumps a version); the idempotency keys a system remembers.
VOLATILE = {"created_at", "updated_at", "posted_at", "shipped_at", "received_at", "occurred_at", "delivered_at",
            "cancelled_at", "createdAt", "updatedAt", "receivedAt", "postedAt", "lastModifiedDateTime",
            "version", "recordVersion", "@odata.etag"}
NOT_STATE = {"sbx_idempotency_keys", "sbx_clocks"}


def _stable(value):
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


class Systems:
    """The sandbox systems over HTTP, as the tests inspect and drive them."""

    def __init__(self, url: str, db: str):
        self.url = url
        self.db = db
        self.http = requests.Session()

    def reset(self) -> None:
        self.post("/_reset")
        self.clock("wms", "2026-11-26T10:00:00Z")  # before the 14:00 cutoff unless a test says otherwise

    def state(self) -> dict:
        """Every record of the four systems, read from their database, without times and versions."""
        from sqlalchemy import create_engine

        from sandbox import store

        engine = create_engine(self.db)
        try:
            with engine.connect() as conn:
                return {t.name: sorted((_stable(dict(r)) for r in conn.execute(select(t)).mappings()),
                                       key=lambda r: json.dumps(r, sort_keys=True, default=str))
                        for t in store.metadata.sorted_tables if t.name not in NOT_STATE}
        finally:
            engine.dispose()

    def call(self, method: str, path: str, **kwargs):
        r = self.http.request(method, self.url + path, timeout=10, **kwargs)
        assert r.status_code < 400, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def get(self, path: str, **params):
        return self.call("GET", path, params=params)

    def post(self, path: str, body=None):
        return self.call("POST", path, json=body if body is not None else {})

    def clock(self, system: str, now: str | None) -> None:
        self.post(f"/{system}/api/_clock", {"now": now})

    def oms_order(self, customer_id: int, *lines: tuple[str, int], **extra) -> dict:
        body = {"customer": {"id": customer_id},
                "line_items": [{"sku": sku, "quantity": qty} for sku, qty in lines], **extra}
        return self.post("/oms/api/orders", {"order": body})["order"]

    def erp_orders(self, external_no: str) -> list[dict]:
        return self.get("/erp/api/sales-orders", externalDocumentNo=external_no)["value"]

    def wms_orders(self, order_number: str) -> list[dict]:
        return self.get("/wms/api/shipping-orders", orderNumber=order_number)["data"]


class Crossdock:
    """A workspace with the bundled templates installed against the sandbox, and its webhooks."""

    def __init__(self, rt, client, workspace: str):
        self.rt, self.client, self.workspace = rt, client, workspace
        self.key = identity.hook_key(rt, workspace)  # what the OMS and WMS would send

    def hook(self, path: str, payload) -> int:
        r = self.client.post(f"/hooks/{self.workspace}/{path}", json=payload, headers={"X-Crossdock-Key": self.key})
        assert r.status_code == 202, r.get_data(as_text=True)
        return r.json["run_id"]

    def finished(self, run_id: int) -> Run:
        def done():
            with self.rt.sessions() as s:
                run = s.get(Run, run_id)
            return run if RunStatus(run.status) in TERMINAL else None
        return wait_for(done, timeout=30)

    def run(self, path: str, payload) -> Run:
        return self.finished(self.hook(path, payload))

    def manual(self, flow_id: str, payload) -> Run:
        """A run started by hand (API), finished."""
        r = self.client.post(f"/api/v1/flows/{flow_id}/runs", json=payload,
                             headers={"X-Crossdock-Workspace": self.workspace})
        assert r.status_code == 202, r.get_data(as_text=True)
        return self.finished(r.json["run"]["id"])

    def steps(self, run_id: int) -> list[Step]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.seq)))

    def dead_letters(self, run_id: int | None = None) -> list[DeadLetter]:
        with self.rt.sessions() as s:
            q = select(DeadLetter).where(DeadLetter.workspace == self.workspace)
            if run_id is not None:
                q = q.where(DeadLetter.run_id == run_id)
            return list(s.scalars(q.order_by(DeadLetter.id)))


@pytest.fixture
def systems(sandbox, sandbox_db) -> Systems:
    s = Systems(sandbox, sandbox_db)
    s.reset()
    return s


class BusinessCentral:
    """The first ERP double (/erp/api) as the goldens read it: sales orders by external number, backorders."""

    def __init__(self, systems: Systems):
        self.systems = systems

    def orders(self, external_no: str | None = None) -> list[dict]:
        args = {"externalDocumentNo": external_no} if external_no else {}
        return self.systems.get("/erp/api/sales-orders", **args)["value"]

    def backorders(self, item_no: str) -> list[tuple[str, int]]:
        return [(b["documentNo"], b["quantityBackordered"])
                for b in self.systems.get("/erp/api/backorder-lines", itemNo=item_no)["value"]]


class NetSuite(BusinessCentral):
    """The second ERP double (/netsuite/api), read in its own terms and told in the first one's words (the test's
    own reading, not the connector's mapping): approved is Released, pending approval with a hold reason is Hold,
    committed is reserved."""

    def orders(self, external_no: str | None = None) -> list[dict]:
        args = {"q": f'externalId IS "{external_no}"'} if external_no else {}
        return [self._told(r) for r in self.systems.get("/netsuite/api/record/v1/salesOrder", **args)["items"]]

    @staticmethod
    def _told(record: dict) -> dict:
        hold, status = record["custbody_hold_reason"], record["orderStatus"]["id"]
        return {"no": record["id"], "customerNo": record["entity"]["refName"].split(" ")[0], "holdReason": hold,
                "status": "Hold" if hold else {"A": "Open", "B": "Released"}.get(status, status),
                "lines": [{"itemNo": l["item"]["refName"], "quantity": l["quantity"],
                           "quantityReserved": l["quantityCommitted"], "quantityBackordered": l["quantityBackOrdered"]}
                          for l in record["item"]["items"]]}

    def backorders(self, item_no: str) -> list[tuple[str, int]]:
        return [(o["no"], l["quantityBackordered"]) for o in self.orders() for l in o["lines"]
                if l["itemNo"] == item_no and l["quantityBackordered"] > 0]


ERP_PRODUCTS = {"erp.business_central": ("erp", BusinessCentral), "erp.netsuite": ("netsuite", NetSuite)}


@pytest.fixture(params=sorted(ERP_PRODUCTS))
def erp_api(request, crossdock, systems):
    """The order-release flow against each ERP product: the workspace's `erp` connection points at that product's
    double and the flow's erp_product param names it (redeployed), as a customer on that ERP would set it up."""
    from runtime import connections

    prefix, view = ERP_PRODUCTS[request.param]
    connections.save(crossdock.rt, crossdock.workspace, "erp", {"system": "erp",
                                                                 "base_url": f"{systems.url}/{prefix}/api"})
    if request.param != "erp.business_central":
        doc = crossdock.client.get("/api/v1/flows/order-release").json["flow"]
        doc["params"]["erp_product"]["default"] = request.param
        assert crossdock.client.put("/api/v1/flows/order-release", json=doc).status_code == 200
        assert crossdock.client.post("/api/v1/flows/order-release/deploy").status_code == 201
    return view(systems)


@pytest.fixture
def netsuite(systems) -> NetSuite:
    return NetSuite(systems)


@pytest.fixture
def crossdock_in(rt, client):
    """Crossdock in a workspace the test made itself (nothing installed)."""
    return lambda workspace: Crossdock(rt, client, workspace)


INSTALLED = ["order-release", "inventory-sync", "shipment-confirmation", "returns", "edi-order-intake", "edi-asn-out"]


@pytest.fixture
def crossdock(rt, client, workspace, systems) -> Crossdock:
    installed = templates.install_bundled(rt, workspace, systems.url)
    assert installed == INSTALLED
    return Crossdock(rt, client, workspace)


@pytest.fixture
def fresh_start(rt, client, systems, partner):
    """Start again from nothing, within one test: the systems back to their seed, and a new workspace (its own
    ledger, of the test's partner) with the bundled templates installed."""
    def start() -> Crossdock:
        systems.reset()
        workspace = f"ws{uuid.uuid4().hex[:10]}"
        rt.ensure_workspace(workspace, partner_id=partner)
        assert templates.install_bundled(rt, workspace, systems.url) == INSTALLED
        return Crossdock(rt, client, workspace)
    return start
