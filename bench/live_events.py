"""Drives live events at a fixed rate (default 1,000/s for 10 s) through the relay to one connected
Socket.IO client and prints delivered/sent and the end-to-end delay (publish to receipt) p50/p99/max.

--mode redis (default): a separate publisher process emits as a worker does (runtime.redis_relay.RedisRelay),
through Redis, to a Crossdock web server (Flask-SocketIO with `message_queue`) in this process.
--mode embedded: the runtime's in-process relay, as in `python run.py`.

Needs Redis for --mode redis (CROSSDOCK_REDIS_URL, default redis://127.0.0.1:6379/15); its own SQLite
in a temporary folder; 127.0.0.1 only. Run: python bench/live_events.py [--rate 1000] [--seconds 10]
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
import socketio  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from runtime import events, redis_relay  # noqa: E402
from runtime.wiring import Runtime  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from web.app import create_app  # noqa: E402

EVENT = {"workspace": "default", "flow_id": "bench", "node_id": "map", "status": "succeeded", "port": "out",
         "attempt": 1, "duration_ms": 0.4}


def publish_paced(relay: events.Publisher, rate: int, seconds: float) -> tuple[int, float]:
    """Publish rate*seconds events on schedule (catching up after a slow call); returns (sent, seconds taken)."""
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        ahead = start + i / rate - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        relay.publish("step.succeeded", {**EVENT, "run_id": i, "seq": i})
    return total, time.perf_counter() - start


def _publisher_process(redis_url: str, channel: str, rate: int, seconds: float, out) -> None:
    out.put(publish_paced(redis_relay.RedisRelay(redis_url, channel), rate, seconds))


def _client_process(url: str, expected: int, patience_s: float, out) -> None:
    """The browser's stand-in, in a process of its own: connects, then reports each event's delay."""
    delays: list[float] = []
    client = socketio.Client(reconnection=False)
    client.on("step.succeeded", lambda data: delays.append(time.time() * 1000 - data["ts"]))
    client.connect(url, auth={"workspace": "default"}, wait_timeout=10)
    out.put(client.transport())
    deadline = time.monotonic() + patience_s
    while len(delays) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    out.put(delays)
    client.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("redis", "embedded"), default="redis")
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # websocket close frames read as bad requests
    redis_url = os.environ.get("CROSSDOCK_REDIS_URL", "redis://127.0.0.1:6379/15") if args.mode == "redis" else ""
    ctx = multiprocessing.get_context("spawn")

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, redis_url=redis_url, queue_name=f"bench-{uuid.uuid4().hex[:8]}",
                            load_samples=False)
        rt = Runtime(settings)
        server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        expected = int(args.rate * args.seconds)
        from_client = ctx.Queue()
        client = ctx.Process(target=_client_process,
                             args=(f"http://127.0.0.1:{server.server_port}", expected, args.seconds + 60, from_client))
        client.start()
        transport = from_client.get(timeout=60)
        print(f"mode {args.mode}, client transport {transport}, {args.rate} events/s for {args.seconds:g} s")
        if args.mode == "redis":
            r = redis.Redis.from_url(redis_url)
            while r.pubsub_numsub(events.channel(settings))[0][1] < 1:  # the web server's listener is up
                time.sleep(0.05)
            from_publisher = ctx.Queue()
            publisher = ctx.Process(target=_publisher_process, args=(redis_url, events.channel(settings), args.rate,
                                                                     args.seconds, from_publisher))
            publisher.start()
            sent, took = from_publisher.get()
            publisher.join()
        else:
            sent, took = publish_paced(rt.events, args.rate, args.seconds)
        delays = sorted(from_client.get(timeout=120))
        client.join(10)
        server.shutdown()
        rt.close()

    print(f"sent {sent} in {took:.2f} s ({sent / took:.0f}/s); delivered {len(delays)}/{sent} "
          f"({100 * len(delays) / sent:.2f}%)")
    if delays:
        p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]  # noqa: E731
        print(f"end-to-end delay ms: p50 {statistics.median(delays):.2f}  p99 {p(0.99):.2f}  max {delays[-1]:.2f}")
    return 0 if len(delays) == sent else 1


if __name__ == "__main__":
    sys.exit(main())
