"""The email message: a multipart/alternative MIME message built from the
rendered text and HTML.

Header values are untrusted (titles come from articles, names from the
config): :func:`header_value` turns every CR, LF and other control character
into a space, so no value can start a new header. Python's ``email`` package
encodes non-ASCII headers per RFC 2047 and folds long lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from .errors import DigestError

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
PLACEHOLDER_TO = "Subscribers <subscribers@example.invalid>"


def header_value(value: str, limit: int = 250) -> str:
    """One line of text, safe as a header value: no CR/LF, no control characters."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def parse_address(value: str, where: str) -> Address:
    """``"Name <user@domain>"`` or ``user@domain`` as an Address; an error otherwise."""
    name, addr = parseaddr(header_value(value))
    if "@" not in addr or addr.startswith("@") or addr.endswith("@") or " " in addr:
        raise DigestError(
            f"{where}: not an email address: {value!r}",
            hint="write it as 'Name <user@example.org>'",
        )
    user, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=user, domain=domain)


def compose(
    *,
    text: str,
    html: str,
    subject: str,
    sender: str,
    to: str = PLACEHOLDER_TO,
    date: dt.datetime | None = None,
    message_id: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> EmailMessage:
    """A multipart/alternative message: text/plain first, text/html last, UTF-8,
    quoted-printable. ``date`` and ``message_id`` default to values derived
    from the content, so the same digest gives the same bytes."""
    from_addr = parse_address(sender, "newsletter.sender")
    to_addr = parse_address(to, "recipient")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = from_addr
    msg["To"] = to_addr
    msg["Subject"] = header_value(subject, 200)
    when = date or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    msg["Date"] = format_datetime(when)
    fingerprint = hashlib.sha256((subject + text + html).encode("utf-8")).hexdigest()
    if message_id is None:
        message_id = f"<{fingerprint[:32]}@{from_addr.domain}>"
    msg["Message-ID"] = message_id
    for name, value in headers:
        msg[header_value(name, 60)] = header_value(value, 900)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg.set_boundary(f"=_digest_{fingerprint[32:56]}")  # stable, unlike the random default
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, lines ≤ 998 octets)."""
    return msg.as_bytes(policy=SMTP)
