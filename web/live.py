"""The Socket.IO relay of the runtime's live events (docs/api.md, "Live events"). A client names its
workspace when it connects and hears only that workspace's rooms; it may narrow to flow rooms.

Connecting authenticates like the API (designer/access.py): the session cookie the handshake carries (a
page of the same origin sends it by itself), or an API key as `auth: {"key": ...}`; the named workspace
must be one the caller sees, with `runs:read`, else the connection is refused as if it did not exist.

Production: the server listens on the Redis channel every runtime process publishes to, so events
from any worker reach every web process. Embedded: the runtime's LocalRelay calls this server directly.
"""
from __future__ import annotations

from flask import Flask, request, session
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room

from designer import access
from runtime import events


def register(app: Flask, runtime) -> SocketIO:
    settings = runtime.settings
    sio = SocketIO(app, async_mode="threading", message_queue=settings.redis_url or None,
                   channel=events.channel(settings), json=events.LenientJson)
    members: dict[str, str] = {}  # socket id -> its workspace

    def caller(auth: dict) -> access.Principal | None:
        key = auth.get("key")
        if key is not None:
            return access.principal_for_key(runtime, key) if isinstance(key, str) else None
        if "uid" not in session:
            return None
        return access.principal_for_user(runtime, session.get("uid"), session.get("epoch"))

    @sio.on("connect")
    def connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        who = caller(auth)
        if who is None:
            raise ConnectionRefusedError({"code": "not_authenticated",
                                          "message": "log in first, or connect with auth: {\"key\": ...}"})
        ws = auth.get("workspace") or request.args.get("workspace") or who.default_workspace()
        if not isinstance(ws, str) or not who.can(ws, "runs:read"):  # another tenant's: as if it did not exist
            raise ConnectionRefusedError({"code": "unknown_workspace", "message": f"no workspace {ws!r}"})
        members[request.sid] = ws
        flow_id = auth.get("flow_id") or request.args.get("flow_id")
        # a monitor page for one flow need not receive the whole workspace's traffic
        join_room(events.flow_room(ws, flow_id) if flow_id else events.workspace_room(ws))
        heard()

    @sio.on("disconnect")
    def disconnect(*_reason):
        members.pop(request.sid, None)
        heard(leaving=request.sid)  # the manager takes it out of its rooms after this handler

    @sio.on("join")
    def join(args=None):
        room = _room(members.get(request.sid), args)
        join_room(room)
        heard()
        return {"joined": room}

    @sio.on("leave")
    def leave(args=None):
        room = _room(members.get(request.sid), args)
        leave_room(room)
        heard()
        return {"left": room}

    def heard(leaving: str | None = None) -> None:
        """Tell the runtime which rooms this process's pages are in, so that only the events someone hears
        are sent: by its executor processes (embedded, runtime/executors.py), to Redis by any process
        (production, runtime/hearing.py)."""
        runtime.events.rooms_heard(_rooms_heard(sio, leaving))

    if isinstance(runtime.events, events.LocalRelay):
        runtime.events.attach(lambda event, data, to: sio.emit(event, data, to=to),
                              listening=lambda to: _has_members(sio, to))
    return sio


def _rooms_heard(sio: SocketIO, leaving: str | None) -> frozenset[str]:
    """The workspace and flow rooms a page of this process is in, `leaving` aside (each page also has a
    room of its own, named by its id, and the manager's room None)."""
    rooms = list(sio.server.manager.rooms.get("/", {}).items())  # one step under the GIL: a copy
    return frozenset(room for room, sids in rooms
                     if isinstance(room, str) and room.startswith(("ws:", "flow:")) and set(sids) - {leaving})


def _has_members(sio: SocketIO, to: list[str]) -> bool:
    """Whether a page of this process is in one of these rooms now (a dict lookup per room; the manager
    changes its rooms under the GIL, and a page joining a moment later reads the run's state when it opens)."""
    rooms = sio.server.manager.rooms.get("/", {})
    return any(rooms.get(room) for room in to)


def _room(ws: str | None, args) -> str:
    """`{"flow_id": id}` names a flow room of the client's workspace; anything else its workspace room."""
    flow_id = args.get("flow_id") if isinstance(args, dict) else None
    return events.flow_room(ws, str(flow_id)) if flow_id else events.workspace_room(ws)
