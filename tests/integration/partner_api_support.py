"""Helpers of the partner API tests: partner clients with tokens, NIKs, a loopback webhook
receiver (a tiny real HTTP server: the fake is at the edge, not in our code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import transaction
from cakupan.users import create_user, issue_token, user_by_username

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=JAKARTA)
ACTOR = Actor.system("test")

#: Partner clients: two partners, and an officer (not a partner client).
CLIENTS: dict[str, dict[str, str]] = {
    "mitra.a": {"role": "partner", "partner_code": "MITRA-A"},
    "mitra.b": {"role": "partner", "partner_code": "MITRA-B"},
    "agen.a": {"role": "agent", "partner_code": "MITRA-A", "agent_code": "MITRA-A-P1"},
    "kabid": {"role": "kabid", "branch_code": "PLG"},
}


def clock() -> FixedClock:
    return FixedClock(NOW)


def nik(serial: int, birth: str = "010190") -> str:
    """A valid NIK of Palembang district 16.71.01 (birth DDMMYY, serial 1-9999)."""
    return f"167101{birth}{serial:04d}"


def make_clients(engine: Engine) -> dict[str, str]:
    """Create the users of :data:`CLIENTS` with one API token each; returns username -> token."""
    tokens = {}
    with transaction(engine) as session:
        for username, scope in CLIENTS.items():
            create_user(session, ACTOR, username=username, password="kopi-tubruk-2026", **scope)
            tokens[username] = issue_token(
                session, ACTOR, user_by_username(session, username).id, "test"
            ).plain
    return tokens


def registration_body(serial: int, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nik": nik(serial),
        "name": f"Peserta {serial}",
        "phone": "081234567890",
        "occupation": "farmer",
        "reported_income": 1_000_000,
        "programs": "JKK+JKM",
        "district_code": "16.71.01",
        "months_to_pay": 1,
    }
    body.update(values)
    return body


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the loopback receiver got; ``status`` is what it answers."""

    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 (free port) recording every POST."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.received.append(
                Received({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            )
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
