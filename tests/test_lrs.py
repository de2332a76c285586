"""Sending statements to a learning record store standing in on loopback."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from entatio.engagement.lrs import LrsError, LrsTarget, send_statements


class StandInLrs(BaseHTTPRequestHandler):
    """Stores statements by id; answers 503 as often as told first."""

    stored: dict[str, dict]
    failures_left: int
    seen_auth: list[str]

    def do_POST(self):
        self.server.seen_auth.append(self.headers.get("Authorization", ""))
        if self.headers.get("X-Experience-API-Version") != "1.0.3":
            return self._answer(400, b"missing version header")
        if self.server.failures_left > 0:
            self.server.failures_left -= 1
            return self._answer(503, b"busy")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if any("actor" not in s for s in body):
            return self._answer(400, b"statement without actor")
        for statement in body:
            self.server.stored.setdefault(statement["id"], statement)
        return self._answer(200, json.dumps([s["id"] for s in body]).encode())

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def lrs():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInLrs)
    server.stored, server.failures_left, server.seen_auth = {}, 0, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def statements(n):
    return [
        {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "actor": {"mbox": f"mailto:m{i}@example.test"},
            "verb": {"id": "http://id.tincanapi.com/verb/viewed"},
            "object": {"id": f"http://localhost/xapi/slides/{i}"},
        }
        for i in range(n)
    ]


def target(server, **kwargs):
    host, port = server.server_address
    return LrsTarget(
        f"http://{host}:{port}/xapi", "key", "s3cret", backoff=0.001, **kwargs
    )


def test_sends_in_batches_with_credentials(lrs):
    assert send_statements(target(lrs), statements(250)) == 250

    assert len(lrs.stored) == 250
    assert len(lrs.seen_auth) == 3
    assert lrs.seen_auth[0] == "Basic " + base64.b64encode(b"key:s3cret").decode()


def test_retries_a_busy_store_and_a_resend_stores_nothing_twice(lrs):
    lrs.failures_left = 2
    send_statements(target(lrs), statements(10))
    send_statements(target(lrs), statements(10))

    assert len(lrs.stored) == 10


def test_gives_up_with_a_clear_error_and_hides_the_password(lrs):
    lrs.failures_left = 10
    lrs_target = target(lrs, retries=2)

    with pytest.raises(LrsError, match="HTTP 503"):
        send_statements(lrs_target, statements(1))
    assert "s3cret" not in repr(lrs_target)


def test_refused_statements_are_not_retried(lrs):
    bad = [{"id": "00000000-0000-4000-8000-000000000001", "verb": {}}]
    with pytest.raises(LrsError, match="HTTP 400"):
        send_statements(target(lrs), bad)
    assert len(lrs.seen_auth) == 1
