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
import unicodedata
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote

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
    return Address(display_name=name, username=user, domain=ascii_domain(domain, where))


_HOST = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+")
MAX_URL = 900  # a List-Unsubscribe URL stays on one header line (≤ 998 octets)


def ascii_domain(domain: str, where: str) -> str:
    """A host name fit for Message-ID and List-Id (IDNs in their ASCII form)."""
    value = header_value(domain).strip().rstrip(".")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise DigestError(
            f"{where}: not a domain name: {domain!r}", hint="e.g. news.example.org"
        ) from exc
    if not _HOST.fullmatch(value):
        raise DigestError(f"{where}: not a domain name: {domain!r}", hint="e.g. news.example.org")
    return value.lower()


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:40].strip("-") or "digest"


def list_id(value: str, domain: str) -> str:
    """RFC 2919 ``List-Id``: ``Name <label.domain>``. ``value`` is either a
    full ``Name <id>``, a bare ``label.domain`` or a name to derive the id from."""
    value = header_value(value, 200)
    m = re.fullmatch(r"(.*?)\s*<([^<>]+)>", value)
    if m and _DOT_ATOM.fullmatch(m.group(2)):
        phrase, ident = m.group(1).strip(), m.group(2)
    elif _DOT_ATOM.fullmatch(value):
        phrase, ident = "", value
    else:
        phrase, ident = value, f"{_slug(value)}.{domain}"
    phrase = " ".join(re.sub(r'[()<>\[\]:;@\\,."]', " ", phrase).split())
    return f"{phrase} <{ident}>" if phrase else f"<{ident}>"


def _uri(url: str) -> str:
    """ASCII-only, with nothing that could end the ``<...>`` or the list."""
    return re.sub(r"[^\x21-\x7e]|[<>,\"]", lambda m: quote(m.group(), safe=""), url.strip())


def unsubscribe_headers(url: str, mailto: str) -> tuple[tuple[str, str], ...]:
    """``List-Unsubscribe`` (https and/or mailto) and, with an https URL,
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058). A merge
    tag or any other value is left to the ESP: no header."""
    targets = []
    url = header_value(url, 10_000)
    mailto = header_value(mailto, 10_000)
    if url.lower().startswith("https://"):
        targets.append(_uri(url))
    elif url.lower().startswith("mailto:") and not mailto:
        mailto = url
    if mailto:
        if not mailto.lower().startswith("mailto:"):
            mailto = "mailto:" + mailto
        if "@" in mailto:
            targets.append(_uri(mailto))
    for target in targets:
        if len(target) > MAX_URL:
            raise DigestError(
                f"unsubscribe link longer than {MAX_URL} characters: {target[:60]}…",
                hint="shorten newsletter.unsubscribe_url / email.unsubscribe_mailto",
            )
    if not targets:
        return ()
    headers = [("List-Unsubscribe", ", ".join(f"<{t}>" for t in targets))]
    if targets[0].lower().startswith("https://"):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return tuple(headers)


class RawHeader(str):
    """An ASCII header value written as it is, folded only after the commas of
    a list: URLs in List-Unsubscribe must not turn into RFC 2047 encoded words,
    which is what ``email`` does to any word longer than a line."""

    name: str

    def __new__(cls, name: str, value: str) -> RawHeader:
        obj = super().__new__(cls, value)
        obj.name = name
        return obj

    def fold(self, *, policy: Any) -> str:
        items = self.split(", ")
        lines = []
        line = f"{self.name}: {items[0]}"
        for item in items[1:]:
            if len(line) + 2 + len(item) > 78:
                lines.append(line + ",")
                line = " " + item
            else:
                line += ", " + item
        lines.append(line)
        return str(policy.linesep).join(lines) + str(policy.linesep)


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
    domain: str = "",
    list_id: str = "",
    unsubscribe: tuple[str, str] = ("", ""),
) -> EmailMessage:
    """A multipart/alternative message: text/plain first, text/html last, UTF-8,
    quoted-printable. ``date`` and ``message_id`` default to values derived
    from the content, so the same digest gives the same bytes.

    ``domain`` names the Message-ID and List-Id domain (default: the
    sender's, never the build host's); ``list_id`` a list name or id;
    ``unsubscribe`` the (URL, mailto) pair for List-Unsubscribe."""
    from_addr = parse_address(sender, "newsletter.sender")
    to_addr = parse_address(to or PLACEHOLDER_TO, "email.to")
    domain = ascii_domain(
        domain or from_addr.domain, "email.domain" if domain else "newsletter.sender"
    )
    msg = EmailMessage(policy=SMTP)
    msg["From"] = from_addr
    msg["To"] = to_addr
    msg["Subject"] = header_value(subject, 200)
    when = date or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    msg["Date"] = format_datetime(when)
    fingerprint = hashlib.sha256((subject + text + html).encode("utf-8")).hexdigest()
    if message_id is None:
        message_id = f"<{fingerprint[:32]}@{domain}>"
    msg["Message-ID"] = header_value(message_id, 250)
    msg["MIME-Version"] = "1.0"
    if list_id:
        msg["List-Id"] = globals()["list_id"](list_id, domain)
    for name, value in unsubscribe_headers(*unsubscribe):
        msg[name] = RawHeader(name, value)
    for name, value in headers:
        msg[header_value(name, 60)] = header_value(value, 900)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for part in msg.iter_parts():
        del part["MIME-Version"]  # belongs on the top-level message only
    msg.set_boundary(f"=_digest_{fingerprint[32:56]}")  # stable, unlike the random default
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, lines ≤ 998 octets)."""
    return msg.as_bytes(policy=SMTP)
