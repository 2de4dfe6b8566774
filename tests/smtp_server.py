"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, in this process.

``Mailbox`` keeps what it accepted and can misbehave on request: refuse
recipients with a given reply, drop the connection at DATA once it holds
``drop_after`` messages (for good, or once), answer 4xx a few times, or be
slow to answer MAIL.
"""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Mailbox:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 ..."
    defer: dict[str, int] = field(default_factory=dict)  # address -> times to answer 451
    drop_after: int | None = None  # drop the connection at DATA once this many are held
    drop_once: bool = False
    stall: int = 0  # this many MAIL commands get their reply only after stall_seconds
    stall_seconds: float = 1.0
    connections: int = 0
    on_data: Any = None  # called (in the server thread) before a message is stored
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.stall > 0:
            self.stall -= 1
            await asyncio.sleep(self.stall_seconds)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.on_data is not None:
            self.on_data(envelope)
        with self.lock:
            if self.drop_after is not None and len(self.received) >= self.drop_after:
                if self.drop_once:
                    self.drop_after = None
                server.transport.close()
                return "421 4.3.2 going away"
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 2.0.0 queued"

    def copies(self, address: str) -> int:
        return sum(address in r.rcpt_tos for r in self.received)


class _Controller(Controller):
    def factory(self):  # count connections
        self.handler.connections += 1
        return super().factory()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(
    mailbox: Mailbox | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    auth: tuple[str, str] | None = None,
) -> Iterator[tuple[Mailbox, int]]:
    """Run a server on 127.0.0.1 until the block ends (also on failure)."""
    box = mailbox or Mailbox()
    kwargs: dict[str, Any] = {}
    if tls is not None and implicit_tls:
        kwargs["ssl_context"] = tls
    elif tls is not None:
        kwargs["tls_context"] = tls
        kwargs["require_starttls"] = True
    if auth is not None:
        user, password = auth

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = tls is not None
    controller = _Controller(box, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@dataclass
class TLSFiles:
    server: ssl.SSLContext
    ca_file: Path


def self_signed(tmp: Path) -> TLSFiles:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TLSFiles(ctx, ca_file)
