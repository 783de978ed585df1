"""An executor process of the embedded default (runtime/executors.py starts it as
`python -m runtime.executor_process --link-fd N`): the web process's settings arrive first on the socket, then
run ids, which worker threads of this process execute; live events go back on the same socket. It ends when
the socket closes (the web process stopped or died) or on SIGTERM/SIGINT, after the jobs in hand."""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys

from nodes import turns
from runtime import heap, jobs, logs
from runtime.executors import LinkPublisher
from runtime.settings import Settings
from runtime.wiring import Runtime


def serve(fd: int, index: int) -> int:
    logs.configure(os.environ, prefix=f"executor-{index} ")  # as the web process that started it logs
    sock = socket.socket(fileno=fd)
    for sig in (signal.SIGTERM, signal.SIGINT):  # as when the web process goes: finish the jobs in hand, end
        signal.signal(sig, lambda *_: sock.shutdown(socket.SHUT_RD))
    stream = sock.makefile("rb")
    given = json.loads(stream.readline() or "null")  # the web process's settings come first
    if given is None:
        return 0
    settings = Settings(**{**given, "previous_secret_keys": tuple(given["previous_secret_keys"]), "executors": 0})
    if settings.executor_nice > 0:
        os.nice(settings.executor_nice)
    turns.enable()  # the worker threads take turns computing (nodes/turns.py)
    rt = Runtime(settings, events=LinkPublisher(sock))
    jobs.bind(rt)
    rt.queue.start_threads(settings.embedded_workers)
    rt.warm_plans()
    heap.settle()  # what the process keeps for its life is built: out of the garbage collector's way
    try:
        receive(stream, rt.queue, rt.events.hear)
    finally:
        rt.queue.stopping.set()
        rt.close()  # joins the worker threads (each finishes its job), sends the last events
    return 0


def receive(stream, queue, hear=lambda rooms: None) -> None:
    """Run ids as they arrive (`17`, or delayed `17 1.5`), those that came together enqueued together, and
    the rooms pages hear (`!["ws:a"]`, `!null`), told to `hear`."""
    pending = b""
    while chunk := stream.read1(65536):
        lines, _, pending = (pending + chunk).rpartition(b"\n")
        now: list[int] = []
        for line in lines.split(b"\n"):
            if line.startswith(b"!"):
                hear(json.loads(line[1:]))
                continue
            run_id, _, delay = line.partition(b" ")
            if delay:
                queue.enqueue_run(int(run_id), float(delay))
            elif run_id:
                now.append(int(run_id))
        queue.enqueue_runs(now)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="a Crossdock executor process (started by the embedded web process)")
    parser.add_argument("--link-fd", type=int, required=True)
    parser.add_argument("--index", type=int, default=0)
    args = parser.parse_args()
    sys.exit(serve(args.link_fd, args.index))
