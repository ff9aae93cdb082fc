"""Every WebSocket input, fuzzed against the live stack (Daphne, its origin check and auth middleware, Redis):
whatever a client sends on `/ws/runs/<id>/` or `/ws/classroom/<room>/`, or whatever it puts in the path, it
gets an error naming the field (or a clean refusal), the socket keeps working, and no run is touched."""
import json
from urllib.parse import quote

import pytest
import redis
from hypothesis import HealthCheck, assume, given, settings as hsettings, strategies as st
from websockets.exceptions import ConnectionClosed

from dashboard import runlog
from dashboard.consumers import ROOM_RE
from tests.server.conftest import get_run, start_run, wait_finished, ws_connect

from .strategies import JSON_VALUES, KEY_TEXT

FUZZ = hsettings(max_examples=100, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SINCE_MAX = 2**53 - 1


@pytest.fixture(autouse=True)
def no_server_errors(stack):
    """What Daphne logs during each test holds no traceback (Channels logs one for a consumer that raised)."""
    log = stack.root / "var" / "log" / "daphne.log"
    start = log.stat().st_size
    yield
    with log.open("rb") as f:
        f.seek(start)
        new = f.read().decode(errors="replace")
    assert "Traceback" not in new and "Exception inside application" not in new, new[-3000:]


def valid_subscribe(message) -> bool:
    if not isinstance(message, dict) or message.get("type") != "subscribe" or set(message) - {"type", "since"}:
        return False
    since = message.get("since", 0)
    return type(since) is int and 0 <= since <= SINCE_MAX


@st.composite
def socket_messages(draw):
    """A text or binary frame: mostly JSON objects that look like what a client might try, some garbage."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=50))
    if kind == 1:
        return draw(st.text(max_size=50))
    if kind == 2:
        return json.dumps(draw(JSON_VALUES), allow_nan=True)
    message = {"type": draw(st.sampled_from(["subscribe", "control", "cancel", "run.status", "run.doorbell",
                                             "classroom.focus", "websocket.disconnect", ""]) | KEY_TEXT | JSON_VALUES)}
    if draw(st.booleans()):
        message["since"] = draw(st.integers(min_value=-3, max_value=SINCE_MAX + 3)
                                | st.sampled_from([SINCE_MAX, SINCE_MAX + 1, 2**64]) | JSON_VALUES)
    for key in draw(st.sets(st.sampled_from(["action", "speed", "run", "focus", "seq"]) | KEY_TEXT, max_size=2)):
        message[key] = draw(st.sampled_from(["cancel", "pause", "step", "max"]) | JSON_VALUES)
    return json.dumps(message, allow_nan=True)


def expected_fields(frame) -> set:
    """The fields an error about this frame may name."""
    if isinstance(frame, bytes):
        return {"body"}
    try:
        message = json.loads(frame)
    except ValueError:
        return {"body"}
    if not isinstance(message, dict):
        return {"body"}
    return {"type", "since", "body"} | {str(k)[:100] for k in message}


def recv_json(ws, timeout=10) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def test_fuzzed_run_socket_messages(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=11)
    final = wait_finished(s, stack, run["id"])
    ws = ws_connect(stack, f"/ws/runs/{run['id']}/")
    try:
        @FUZZ
        @given(frame=socket_messages())
        def check(frame):
            if isinstance(frame, str):
                try:
                    assume(not valid_subscribe(json.loads(frame)))
                except ValueError:
                    pass
            ws.send(frame)
            reply = recv_json(ws)
            assert reply["type"] == "error" and reply["error"]["message"], (frame, reply)
            assert reply["error"]["field"] in expected_fields(frame), (frame, reply)

        check()
        # Still a working socket afterwards, and the run is as it was.
        ws.send(json.dumps({"type": "subscribe", "since": final["last_seq"]}))
        assert recv_json(ws)["type"] == "run"
    finally:
        ws.close()
    assert get_run(s, stack, run["id"]) == final
    assert redis.Redis.from_url(stack.redis_url).exists(runlog.ctl_key(run["id"])) == 0


def test_fuzzed_classroom_socket_messages(stack):
    ws = ws_connect(stack, "/ws/classroom/default/")
    try:
        try:
            while True:  # the latest run and the presenter's focus, if any
                recv_json(ws, timeout=1)
        except TimeoutError:
            pass

        @hsettings(FUZZ, max_examples=60)
        @given(frame=socket_messages())
        def check(frame):
            ws.send(frame)
            reply = recv_json(ws)
            assert reply["type"] == "error", (frame, reply)
            assert reply["error"]["field"] in ({"type", "body"} & expected_fields(frame) or {"type"}), (frame, reply)

        check()
    finally:
        ws.close()


def test_fuzzed_socket_paths(stack):
    """Any path under /ws/, any run id or room in it: an error naming what is wrong and a close (4404), never
    a server error; a valid room name gets the classroom socket."""
    @hsettings(FUZZ, max_examples=50)
    @given(kind=st.sampled_from(["runs", "classroom", "nothing", "runs/x"]),
           name=st.text(min_size=1, max_size=60) | st.uuids().map(str) | st.sampled_from(["a/b", "/", "x/"]))
    def check(kind, name):
        assume(name not in (".", ".."))  # a client may normalise these away
        ws = ws_connect(stack, f"/ws/{kind}/{quote(name, safe='')}/")
        try:
            if kind == "classroom" and ROOM_RE.match(name):
                ws.send("{}")
                while (reply := recv_json(ws))["type"] in ("run", "focus"):
                    pass
                assert reply["error"]["field"] == "type", reply
                return
            first = recv_json(ws)
            field = {"runs": "run", "classroom": "room"}.get(kind, "path") if "/" not in name else "path"
            assert first["type"] == "error" and first["error"]["field"] == field, first
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
            assert ws.close_code == 4404
        finally:
            ws.close()

    check()
