"""Who gets the digest: addresses from ``--to`` or a CSV file, validated.

The CSV has a header row with an ``email`` column and optionally ``name``
and any other columns (kept as :attr:`Recipient.fields`, e.g. ``token`` for
the unsubscribe link). Every value is untrusted: an address must be a plain
``local@domain`` (ASCII local part; an international domain is converted to
its ``xn--`` form), and a name is reduced to one line of text, so no CSV
field can add a header or a recipient. Duplicates (compared case-blind) are
sent once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import DigestError
from .message import header_value

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Recipient:
    """One recipient: ``email`` is the normalised address, as sent in RCPT TO."""

    email: str
    name: str = ""
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """The ledger's key: mailboxes are case-blind in practice, so a list that
        spells an address differently next time still sends only once."""
        return self.email.lower()

    def field(self, key: str) -> str:
        for k, v in self.fields:
            if k == key:
                return v
        return ""


def normalize_address(value: str) -> str | None:
    """``local@domain`` with a lower-case ASCII domain, or None when invalid."""
    value = value.strip()
    if not value or len(value) > 254 or value.count("@") != 1 or _CONTROL.search(value):
        return None
    local, domain = value.split("@")
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        return None
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None
    return f"{local}@{domain}"


def parse_recipient(value: str, where: str, name: str = "") -> Recipient:
    """``user@example.org`` or ``Name <user@example.org>``; an error otherwise."""
    text = value.strip()
    if _CONTROL.search(value):
        raise DigestError(
            f"{where}: control characters in an address: {value!r}",
            hint="an address is one line: user@example.org",
        )
    addr = text
    if text.endswith(">") and "<" in text:
        display, _, addr = text[:-1].rpartition("<")
        name = name or display.strip().strip('"').strip()
    email = normalize_address(addr)
    if email is None:
        raise DigestError(
            f"{where}: not an email address: {value!r}",
            hint="write it as user@example.org or 'Name <user@example.org>'",
        )
    return Recipient(email=email, name=header_value(name, 120))


def dedupe(recipients: Sequence[Recipient]) -> tuple[list[Recipient], int]:
    """The recipients without repeats (case-blind); and how many were dropped."""
    seen: set[str] = set()
    out: list[Recipient] = []
    for r in recipients:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return out, len(recipients) - len(out)


def from_args(values: Sequence[str]) -> list[Recipient]:
    return [parse_recipient(v, "--to") for v in values]


def read_csv(path: str) -> list[Recipient]:
    """Recipients from a CSV file; every bad row is reported before stopping."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DigestError(
            f"{path}: cannot read the recipients: {exc.strerror or exc}",
            hint="pass an existing CSV file with --recipients",
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DigestError(
            f"{path}: the recipients file is not UTF-8 ({exc.reason} at byte {exc.start})",
            hint="save it as UTF-8 CSV",
        ) from exc
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DigestError(f"{path}: not a valid CSV file: {exc}", hint="check the quoting") from exc
    if not rows:
        raise DigestError(
            f"{path}: the recipients file is empty", hint="add a header row: email,name"
        )
    header = [h.strip().lower() for h in rows[0]]
    if "email" not in header:
        raise DigestError(
            f"{path}: no 'email' column in the header row ({', '.join(rows[0]) or 'empty'})",
            hint="the first row names the columns, e.g. email,name",
        )
    problems: list[str] = []
    recipients: list[Recipient] = []
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        values = dict(zip(header, row, strict=False))
        where = f"{path} line {line}"
        try:
            r = parse_recipient(values.get("email", ""), where, values.get("name", ""))
        except DigestError as exc:
            problems.append(exc.message)
            continue
        extra = tuple(
            (k, header_value(v, 500)) for k, v in values.items() if k and k not in ("email", "name")
        )
        recipients.append(Recipient(email=r.email, name=r.name, fields=extra))
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise DigestError(
            "; ".join(problems[:MAX_PROBLEMS]) + more,
            hint="fix or remove those rows; nothing was sent",
        )
    if not recipients:
        raise DigestError(f"{path}: no recipients in the file", hint="add rows under the header")
    return recipients
