"""The Run button and the run inspector follow a run through its live events (web/src/runWatch.ts), never by
polling it: the page's requests are recorded, and /api/v1/runs/<id> is read only after an event of that run
(plus once on the socket's connect, and once to open the inspector). The run is held in its HTTP step by the
test's order target, long enough for the former 300 ms and 400 ms polls to show."""
from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from support import wait_for
from support.browser import run_with_sample

QUIET_MS = 1000  # a window with no events: the polls this replaced would have read the run 2-3 times in it


class Traffic:
    """The page's reads of one run and the live events of it the page received (websocket or long-polling)."""

    RUN_GET = re.compile(r"/api/v1/runs/(\d+)(?:\?|$)")

    def __init__(self, page):
        self.page = page
        self.gets: list[int] = []
        self.events: list[tuple[str, dict]] = []
        self.sockets: list = []
        page.on("request", self._request)
        page.on("websocket", self._socket)
        page.on("response", self._polled)

    def until(self, predicate) -> None:
        """Waits in the page's own loop: Playwright hands over requests and frames only while it runs."""
        for _ in range(200):
            if predicate():
                return
            self.page.wait_for_timeout(50)
        raise AssertionError("the page never got there")

    def _socket(self, ws):
        self.sockets.append(ws)
        ws.on("framereceived", self._packets)

    def _request(self, request):
        m = self.RUN_GET.search(request.url)
        if request.method == "GET" and m:
            self.gets.append(int(m.group(1)))

    def _polled(self, response):
        if "/socket.io/" in response.url and response.request.method == "GET":
            try:
                self._packets(response.text())
            except Exception:  # a response whose body is gone (the page navigated)
                pass

    def _packets(self, payload):
        for packet in str(payload).split("\x1e"):
            m = re.match(r"^42\d*(\[.*\])$", packet, re.S)  # engine.io message + socket.io event (namespace /)
            if m:
                name, data = json.loads(m.group(1))[:2]
                self.events.append((name, data))

    def reads(self, run_id: int) -> int:
        return self.gets.count(run_id)

    def events_of(self, run_id: int) -> list[str]:
        return [name for name, data in self.events if isinstance(data, dict) and data.get("run_id") == run_id]


def held_flow(flow_id: str, url: str) -> dict:
    """manual trigger (sample: a HOLD order) -> map -> connector.http to the test's order target."""
    def node(id, type, x, config):
        return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": 120}}
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Held order",
            "nodes": [node("start", "event.manual", 40, {"sample": {"number": f"HOLD-{flow_id}", "qty": 2}}),
                      node("shape", "transform.map", 330, {"expression": "{ 'ref': number, 'qty': qty }"}),
                      node("erp", "connector.http", 620, {"url": url, "method": "POST",
                                                          "retry": {"max_attempts": 1, "backoff_s": 0}})],
            "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "shape", "target_port": "in"},
                      {"id": "e2", "source": "shape", "source_port": "out", "target": "erp", "target_port": "in"}]}


def test_the_run_button_reads_the_run_once_its_finished_event_arrives(canvas, page, canvas_api, order_target):
    flow_id = f"held-{time.time_ns()}"
    canvas_api.create_flow(held_flow(flow_id, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    traffic = Traffic(page)
    canvas.open(flow_id)

    run_with_sample(page, "trigger", real=True)
    expect(page.locator("[data-testid=run]")).to_have_text("Running…")
    wait_for(lambda: order_target.received)  # the run waits in its HTTP step
    run_id = canvas_api.call("GET", f"/runs?flow_id={flow_id}")["runs"][0]["id"]
    page.wait_for_timeout(QUIET_MS)
    assert traffic.reads(run_id) == 0, "the page read a run none of whose events said it had finished"

    order_target.release.set()
    expect(page.locator("[data-testid=notice]")).to_contain_text("Run succeeded")
    expect(canvas.node("erp").locator(".cd-node")).to_have_attribute("data-status", "succeeded")
    events = traffic.events_of(run_id)
    assert "run.finished" in events and "step.started" in events, events
    assert 1 <= traffic.reads(run_id) <= events.count("run.finished") + 1, (traffic.gets, events)
    assert order_target.received == [{"ref": f"HOLD-{flow_id}", "qty": 2}]
    traffic.until(lambda: traffic.sockets and all(ws.is_closed() for ws in traffic.sockets))


def test_the_run_inspector_turns_a_running_run_into_its_result_when_it_finishes(page, canvas_api, canvas_url, order_target, order_flow, post_order):
    stamp = time.time_ns()
    flow_id, path = f"watched-{stamp}", f"watched{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    run_id = post_order(canvas_url, path, f"HOLD-{stamp}")
    wait_for(lambda: order_target.received)
    traffic = Traffic(page)

    page.goto(f"{canvas_url}/runs/{run_id}")
    inspector = page.locator("[data-testid=run-inspector]")
    expect(inspector).to_have_attribute("data-run-status", "running")
    expect(page.locator("[data-testid=replay-original]")).to_be_disabled()
    traffic.until(lambda: traffic.reads(run_id) >= 2)  # the page's first read, and one when its socket is up
    page.wait_for_timeout(QUIET_MS)
    assert traffic.reads(run_id) == 2 and not traffic.events_of(run_id), (traffic.gets, traffic.events)

    order_target.release.set()
    expect(inspector).to_have_attribute("data-run-status", "succeeded")
    steps = page.locator("[data-testid=step-row]")
    expect(steps).to_have_count(3)
    assert [steps.nth(i).get_attribute("data-status") for i in range(3)] == ["succeeded"] * 3
    expect(page.locator("[data-testid=replay-original]")).to_be_enabled()
    events = traffic.events_of(run_id)
    assert events and events[-1] == "run.finished", events
    # besides the two reads above, only events were followed by reads: one for the batch that finished the run
    assert 3 <= traffic.reads(run_id) <= 2 + len(events), (traffic.gets, events)
    # the watch ended with the run: its socket is closed
    traffic.until(lambda: traffic.sockets and all(ws.is_closed() for ws in traffic.sockets))


def test_a_lost_finished_event_is_made_good_when_the_socket_reconnects(page, canvas_api, canvas_url, order_target, order_flow, post_order):
    """Events are delivered at most once: the page reads the run again on every (re)connect of its socket."""
    stamp = time.time_ns()
    flow_id, path = f"lossy-{stamp}", f"lossy{stamp}"
    canvas_api.create_flow(order_flow(flow_id, path, order_target.url))
    canvas_api.call("POST", f"/flows/{flow_id}/deploy", {})
    run_id = post_order(canvas_url, path, f"HOLD-{stamp}")
    wait_for(lambda: order_target.received)
    traffic, sockets, dropped = Traffic(page), [], []

    def relay(ws):  # between the page and the server, losing this run's run.finished
        server = ws.connect_to_server()

        def to_page(message):
            m = re.match(r"^42\d*(\[.*\])$", message, re.S) if isinstance(message, str) else None
            if m and json.loads(m.group(1))[0] == "run.finished" and json.loads(m.group(1))[1].get("run_id") == run_id:
                dropped.append(message)
                return
            ws.send(message)
        ws.on_message(lambda message: server.send(message))
        server.on_message(to_page)
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    page.goto(f"{canvas_url}/runs/{run_id}")
    inspector = page.locator("[data-testid=run-inspector]")
    expect(inspector).to_have_attribute("data-run-status", "running")
    traffic.until(lambda: traffic.reads(run_id) >= 2)  # its first read, and one when its socket came up

    order_target.release.set()
    traffic.until(lambda: dropped)
    wait_for(lambda: canvas_api.call("GET", f"/runs/{run_id}")["run"]["status"] == "succeeded")
    assert inspector.get_attribute("data-run-status") == "running" and traffic.reads(run_id) == 2

    sockets[-1].close()  # the connection drops; Socket.IO reconnects by itself and the page reads the run once
    expect(inspector).to_have_attribute("data-run-status", "succeeded")
    expect(page.locator("[data-testid=step-row]")).to_have_count(3)
    assert len(sockets) == 2 and traffic.reads(run_id) == 3, traffic.gets
