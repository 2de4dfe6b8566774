"""Stage 6, deliver: put the rendered files where they go, and send the email.

``write_files`` replaces the output folder as a whole: it stages a complete
copy of the new ``out/`` in a temporary folder beside it (the new files, plus
every file of the old ``out/`` that this build does not produce, such as
archive folders), then swaps the two folders. On Linux the swap is one
atomic ``renameat2(RENAME_EXCHANGE)``; elsewhere it is two renames. A full
disk, an unwritable folder or an interruption at any point leaves ``out/``
holding the previous complete digest, never a mix. ``write_file`` adds one
file to a folder atomically (the ``file`` transport's outbox).

``digest send`` takes the built ``digest.eml`` and sends one copy per
recipient (To is that recipient alone; Date, Message-ID and a personalised
unsubscribe link are set per copy; the bodies are the built ones) through a
transport from :data:`BACKENDS`: ``smtp`` (one connection carries many
messages; STARTTLS, implicit TLS or none; AUTH with the password from
``DIGEST_SMTP_PASSWORD``) or ``file`` (dry runs: each message becomes an
``.eml`` file). The send ledger (:mod:`digest.ledger`) makes re-runs safe.

Failures, and what happens:

- a dropped connection, a timeout or a 421 reply: reconnect after a backoff
  (``smtp.backoff`` seconds, doubled each time); after ``smtp.retries``
  failures in a row the run stops and the rest stay pending for a re-run;
- another 4xx reply for a recipient: that recipient waits (the same backoff)
  while the others go on, up to ``smtp.retries`` times in the run;
- a 5xx reply for a recipient: recorded as refused, reported, the others go on;
- the server refusing the sender, AUTH or the TLS certificate: an error that
  stops the run (it would fail the same way for everyone).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import errno
import functools
import hashlib
import hmac
import html
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email import quoprimime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import markupsafe

from . import message
from .errors import DigestError
from .ledger import Ledger, no_send_running, open_ledger
from .model import Rendered
from .recipients import Recipient, dedupe, from_args, normalize_address, parse_recipient, read_csv

if TYPE_CHECKING:
    from .config import Config, SmtpConfig


STAGING_PREFIX = ".digest-staging-"


def write_files(out: str, rendered: Rendered) -> list[Path]:
    """Replace ``out`` with the previous contents plus every file of ``rendered``.

    Returns the paths of the written files (inside ``out``).
    """
    target = Path(os.path.abspath(out))
    if target.is_symlink() and target.is_dir():
        target = target.resolve()  # swap the folder the link points at, keep the link
    if target.exists() and not target.is_dir():
        raise DigestError(
            f"{out}: output path is a file, not a folder",
            hint="pass a folder with -o/--out, or move the file away",
        )
    here = Path.cwd().resolve()
    if target.resolve() == here or target.resolve() in here.parents:
        raise DigestError(
            f"{out}: the output folder is replaced as a whole, so it cannot be the current "
            "folder or one above it",
            hint="write into a folder of its own, e.g. -o out",
        )
    names = [name for name, _ in rendered.files]
    for name in names:
        if not name or Path(name).is_absolute() or ".." in Path(name).parts:
            raise DigestError(f"{name!r}: not a file name inside the output folder")
    parent = target.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise DigestError(
                    f"{out}: {_shown(ancestor)} is a file, not a folder",
                    hint="choose another output folder with -o/--out",
                )
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent, target.name)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-", dir=parent))
    except OSError as exc:
        raise DigestError(
            f"{out}: cannot create the output folder: {_reason(exc)}",
            hint="choose a writable folder with -o/--out",
        ) from exc
    try:
        with no_send_running(target, out):
            _set_mode(staging, target)
            if target.is_dir():
                _copy_previous(target, staging, skip=set(names))
            for name, data in rendered.files:
                _write_file(staging / name, data)
            _fsync_dir(staging)
            _swap(staging, target)
    except OSError as exc:
        raise DigestError(
            f"{out}: cannot write the digest: {_reason(exc)}; the previous digest was kept",
            hint=_hint(exc),
        ) from exc
    finally:
        # After a swap the staging path holds the previous out/; before it, a
        # partial new one. Either way it goes.
        shutil.rmtree(staging, ignore_errors=True)
    return [Path(out) / name for name in names]


STALE_AFTER = 3600.0  # seconds


def _remove_stale(parent: Path, name: str) -> None:
    """Staging folders of ``name`` left by a build that was killed outright
    (SIGKILL, a power cut); an hour old, so never one a running build uses."""
    import glob

    now = time.time()
    for path in parent.glob(f"{glob.escape(STAGING_PREFIX + name)}-*"):
        with contextlib.suppress(OSError):
            old = now - path.stat().st_mtime > STALE_AFTER
            if old and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)


def _set_mode(staging: Path, target: Path) -> None:
    """mkdtemp makes a private (0700) folder; give it the old folder's mode, else
    the usual one for the umask."""
    if target.is_dir():
        mode = target.stat().st_mode & 0o7777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o777 & ~umask
    os.chmod(staging, mode)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _hint(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some disk space and build again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose a writable folder with -o/--out"
    return "check the output folder and the disk, or choose another folder with -o/--out"


def _copy_previous(src: Path, dst: Path, skip: set[str]) -> None:
    """Carry over what the build does not produce (hard links where possible)."""
    for entry in sorted(src.iterdir()):
        if entry.name in skip or entry.name.startswith(STAGING_PREFIX):
            continue
        dest = dst / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dest)
        elif entry.is_dir():
            shutil.copytree(entry, dest, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(entry), str(dest))


def _link_or_copy(src: str, dst: str) -> str:
    """A hard link is safe here: staged files are only ever replaced, never
    written through."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _write_file(path: Path, data: bytes) -> None:
    """Write every byte and fsync; a short write or a full disk raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # never write through a hard link to the previous file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if sys.platform.startswith("win"):  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target``; afterwards ``staging`` holds the old one."""
    if not target.exists():
        os.rename(staging, target)
        staging.mkdir()  # so the caller's cleanup has something to remove
        return
    if _exchange(staging, target):
        return
    # Fallback: two renames. Between them out/ is briefly absent, never mixed.
    old = staging.with_name(staging.name + "-old")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    os.rename(old, staging)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2; False when unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # old kernel or a filesystem without exchange
    raise OSError(err, os.strerror(err), str(b))


def write_file(folder: Path, name: str, data: bytes) -> Path:
    """Write one file into ``folder`` atomically (a temporary file, then
    ``os.replace``), leaving the folder's other files alone: for outboxes
    that grow one message at a time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".digest-", dir=folder)
        os.close(fd)
        try:
            _write_file(Path(tmp), data)
            os.replace(tmp, folder / name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except OSError as exc:
        raise DigestError(
            f"{folder / name}: cannot write: {_reason(exc)}", hint=_hint(exc)
        ) from exc
    return folder / name


def archive_files(key: str, issue: Rendered, site: Rendered) -> list[tuple[str, bytes]]:
    """The issue's files under ``<key>/`` plus the archive's own files
    (``index.html``, ``feed.xml``), as names inside the output folder."""
    return [(f"{key}/{name}", data) for name, data in issue.files] + list(site.files)


def write_archive(out: str, key: str, issue: Rendered, site: Rendered) -> list[Path]:
    """The issue into ``<out>/<key>/`` and the archive's files into ``<out>``,
    in one atomic replacement of ``out``."""
    return write_files(out, Rendered(files=tuple(archive_files(key, issue, site))))


# --- sending -------------------------------------------------------------------------------

PASSWORD_ENV = "DIGEST_SMTP_PASSWORD"
SECRET_ENV = "DIGEST_UNSUBSCRIBE_SECRET"
SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
OUTBOX_DIR = "outbox"
_PLACEHOLDER = re.compile(r"\{(email|token)\}")
_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|min|minute|h|hour)\s*")
_PER = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0}
_PER["hour"] = 3600.0


class TransientError(Exception):
    """Try again later: a 4xx reply, a dropped connection, a timeout.
    ``connection`` is true when the connection is gone (reconnect first)."""

    def __init__(self, reply: str, connection: bool, connecting: bool = False) -> None:
        super().__init__(reply)
        self.reply = reply
        self.connection = connection
        self.connecting = connecting


class RefusedError(Exception):
    """The server refused this recipient for good (5xx)."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def parse_rate(value: str, where: str = "--rate") -> float | None:
    """``"10/s"``, ``"600/min"``, ``"3600/h"`` as messages per second; ``""`` = no limit."""
    if not value.strip():
        return None
    m = _RATE.fullmatch(value)
    if not m or float(m[1]) <= 0:
        raise DigestError(
            f"{where}: not a rate: {value!r}", hint="write it as N/s, N/min or N/h, e.g. 10/s"
        )
    return float(m[1]) / _PER[m[2]]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect; ``password`` comes from the environment only."""

    host: str
    port: int
    security: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""
    timeout: float = 30.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def smtp_settings(cfg: SmtpConfig, environ: Mapping[str, str] | None = None) -> SmtpSettings:
    """Check ``[smtp]`` and read the password from ``DIGEST_SMTP_PASSWORD``."""
    env = os.environ if environ is None else environ
    if cfg.security not in SECURITY:
        raise DigestError(
            f"smtp.security: {cfg.security!r} is not one of {', '.join(SECURITY)}",
            hint="starttls (port 587) or ssl (port 465) for a mail service",
        )
    port = cfg.port or DEFAULT_PORTS[cfg.security]
    if not 0 < port < 65536:
        raise DigestError(f"smtp.port: {cfg.port} is not a port", hint="e.g. 587")
    if not cfg.host.strip():
        raise DigestError("smtp.host is empty", hint="pass --smtp-host or set smtp.host")
    password = env.get(PASSWORD_ENV, "")
    if cfg.user and not password:
        raise DigestError(
            f"smtp.user is {cfg.user!r} but {PASSWORD_ENV} is not set",
            hint=f"export {PASSWORD_ENV} in the environment (never on the command line)",
        )
    if cfg.user and cfg.security == "none" and not _is_loopback(cfg.host):
        raise DigestError(
            f"{cfg.host}: refusing to send the password without TLS",
            hint="use --security starttls or ssl",
        )
    if cfg.ca_file and not Path(cfg.ca_file).is_file():
        raise DigestError(
            f"{cfg.ca_file}: CA file not found", hint="pass a PEM file with --ca-file"
        )
    if cfg.timeout <= 0 or cfg.retries < 0 or cfg.backoff < 0:
        raise DigestError(
            "smtp.timeout must be > 0, smtp.retries and smtp.backoff >= 0",
            hint="see the configuration reference in README.md",
        )
    return SmtpSettings(
        host=cfg.host.strip(),
        port=port,
        security=cfg.security,
        user=cfg.user,
        password=password if cfg.user else "",
        ca_file=cfg.ca_file,
        timeout=cfg.timeout,
    )


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Transport(Protocol):
    """A way to deliver one message at a time (see :data:`BACKENDS`)."""

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def send(self, sender: str, rcpt: str, data: bytes, before_data: Callable[[], None]) -> str:
        """Deliver ``data``; call ``before_data`` right before the message goes out.
        Return the server's reply; raise TransientError or RefusedError."""
        ...

    def close(self) -> None: ...


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


class SmtpTransport:
    """SMTP: one connection for many messages; reconnects when told to."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.settings.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise DigestError(
                f"{self.settings.ca_file}: not a CA certificate file: {exc}",
                hint="pass the PEM certificate of the CA that signed the server's certificate",
            ) from exc

    def open(self) -> None:
        s = self.settings
        ctx = self._context()
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ctx)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise DigestError(
                        f"{s.where}: the server does not offer STARTTLS",
                        hint="use --security ssl (port 465), or --security none on a "
                        "trusted local network only",
                    )
                conn.starttls(context=ctx)
                conn.ehlo()
            if s.user:
                _login(conn, s.user, s.password)
        except ssl.SSLCertVerificationError as exc:
            _abandon(conn)
            raise DigestError(
                f"{s.where}: the server's TLS certificate is not trusted "
                f"({exc.verify_message or exc.reason})",
                hint="pass --ca-file with the certificate of the CA that signed it "
                "(or set smtp.ca_file)",
            ) from exc
        except ssl.SSLError as exc:
            _abandon(conn)
            raise DigestError(
                f"{s.where}: TLS failed: {exc.reason or exc}",
                hint="check --security: ssl for port 465, starttls for 587",
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            _abandon(conn)
            raise DigestError(
                f"{s.where}: the server refused the login of user {s.user!r}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}",
                hint=f"check --user and {PASSWORD_ENV}",
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            _abandon(conn)
            raise DigestError(
                f"{s.where}: the server does not offer AUTH", hint="drop --user, or use TLS"
            ) from exc
        except socket.gaierror as exc:
            _abandon(conn)
            raise DigestError(
                f"{s.host}: unknown host ({exc.strerror})", hint="check --smtp-host"
            ) from exc
        except DigestError:
            _abandon(conn)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            _abandon(conn)
            raise TransientError(
                f"cannot connect to {s.where}: {_describe(exc)}", True, connecting=True
            ) from exc
        self._conn = conn

    def send(self, sender: str, rcpt: str, data: bytes, before_data: Callable[[], None]) -> str:
        conn = self._conn
        assert conn is not None
        try:
            code, text = conn.mail(sender)
            if code != 250:
                _rset(conn)
                if 500 <= code < 600:
                    raise DigestError(
                        f"{self.settings.where}: the server refused the sender {sender}: "
                        f"{_reply(code, text)}",
                        hint="check newsletter.sender (or smtp.envelope_from) is allowed "
                        "for this account",
                    )
                raise TransientError(_reply(code, text), True)
            code, text = conn.rcpt(rcpt)
            if code not in (250, 251):
                _rset(conn)
                raise _refusal(code, text)
            before_data()
            try:
                code, text = conn.data(data)
            except smtplib.SMTPDataError as exc:
                raise _refusal(exc.smtp_code, exc.smtp_error) from exc
            if code != 250:
                raise _refusal(code, text)
            return _reply(code, text)
        except (TransientError, RefusedError, DigestError):
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TransientError(
                f"{self.settings.where}: connection lost: {_describe(exc)}", True
            ) from exc

    def _drop(self) -> None:
        _abandon(self._conn)
        self._conn = None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            _abandon(conn)


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN when offered (one round trip, no fallback that retries the
    same password through other mechanisms), else smtplib's choice."""
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("no AUTH")
    if "PLAIN" in conn.esmtp_features.get("auth", "").upper().split():
        conn.user, conn.password = user, password
        conn.auth("PLAIN", conn.auth_plain)
    else:
        conn.login(user, password)


def _refusal(code: int, text: bytes | str) -> Exception:
    reply = _reply(code, text)
    if code == 421:
        return TransientError(reply, True)
    if 500 <= code < 600:
        return RefusedError(reply)
    return TransientError(reply, False)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _rset(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        conn.rset()


def _abandon(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()


class FileTransport:
    """Dry runs: every message becomes ``NNNN-address.eml`` in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        self._open = True

    def send(self, sender: str, rcpt: str, data: bytes, before_data: Callable[[], None]) -> str:
        self.count += 1
        name = f"{self.count:04d}-{file_slug(rcpt)}.eml"
        before_data()
        return str(write_file(self.folder, name, data))

    def close(self) -> None:
        self._open = False


def file_slug(address: str) -> str:
    """An address as a safe file name part."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", address.replace("@", "_at_"))[:80]


BACKENDS: dict[str, Callable[..., Transport]] = {"smtp": SmtpTransport, "file": FileTransport}


# --- the messages --------------------------------------------------------------------------


class Outbox:
    """The built ``digest.eml`` and how to make each recipient's copy of it.

    Only To, Date, Message-ID (and Subject for ``--test``) change, plus the
    unsubscribe link when ``newsletter.unsubscribe_url`` has ``{email}`` or
    ``{token}`` in it: that exact URL, as the build wrote it into the text,
    the HTML and any header (List-Unsubscribe), becomes the recipient's URL,
    with the values URL-encoded. ``{token}`` is the recipient's ``token``
    column, else an HMAC-SHA256 of the address keyed with
    ``DIGEST_UNSUBSCRIBE_SECRET`` (so the unsubscribe page can check it).
    """

    def __init__(self, eml: bytes, where: str, unsubscribe_url: str = "", secret: str = ""):
        self.eml = eml
        self.where = where
        self.issue = hashlib.sha256(eml).hexdigest()[:24]
        template = _parse(eml)
        from_header = template.get("From")
        addresses = getattr(from_header, "addresses", ())
        if not addresses or not addresses[0].domain:
            raise DigestError(
                f"{where}: no valid From address", hint="rebuild it with 'digest build'"
            )
        self.sender: Address = addresses[0]
        self.subject = str(template.get("Subject", ""))
        built_id = re.search(r"@([A-Za-z0-9.-]+)>", str(template.get("Message-ID", "")))
        self.id_domain = built_id[1] if built_id else self.sender.domain
        self.pattern = unsubscribe_url if _PLACEHOLDER.search(unsubscribe_url) else ""
        self.secret = secret
        # the header fields as raw lines, and the body bytes, for copies that only
        # change headers: the body is sent exactly as built (and fast)
        head, crlf2, self._body = eml.partition(b"\r\n\r\n")
        self._fields: list[tuple[str, bytes]] = []
        for line in head.split(b"\r\n") if crlf2 else ():
            if line[:1] in (b" ", b"\t") and self._fields:
                name, raw = self._fields[-1]
                self._fields[-1] = (name, raw + line + b"\r\n")
            else:
                name = line.split(b":", 1)[0].decode("ascii", "replace").strip().lower()
                self._fields.append((name, line + b"\r\n"))
        # with a personal unsubscribe link: the parts and headers that carry it
        self._forms: list[tuple[str, bool]] = []  # (as built, is HTML-escaped)
        self._parts: list[tuple[bytes, str, bool]] = []  # (encoded payload, text, is HTML)
        self._headers: dict[str, str] = {}  # lower name -> decoded value with the link
        if self.pattern:
            self._forms = [(self.pattern, False)]
            for esc in (str(markupsafe.escape(self.pattern)), html.escape(self.pattern)):
                if esc != self.pattern and (esc, True) not in self._forms:
                    self._forms.append((esc, True))
            self._index_personal(template)

    @classmethod
    def load(cls, folder: Path, unsubscribe_url: str = "", secret: str = "") -> Outbox:
        path = folder / "digest.eml"
        try:
            eml = path.read_bytes()
        except FileNotFoundError as exc:
            raise DigestError(
                f"{path}: no built digest to send",
                hint=f"run 'digest build -o {folder}' first",
            ) from exc
        except OSError as exc:
            raise DigestError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        return cls(eml, str(path), unsubscribe_url, secret)

    def check(self, recipients: Sequence[Recipient]) -> list[str]:
        """Fail before sending when a {token} cannot be made; warnings otherwise."""
        warnings = []
        if "{token}" in self.pattern and not self.secret:
            missing = [r.email for r in recipients if not r.field("token")]
            if missing:
                raise DigestError(
                    f"newsletter.unsubscribe_url uses {{token}} but {missing[0]} has no token",
                    hint=f"add a token column to the recipients, or set {SECRET_ENV}",
                )
        if self.pattern and self.pattern not in self.eml.decode("ascii", "replace"):
            plain = all(self.pattern not in _text_of(p) for p in _parse(self.eml).walk())
            if plain:
                warnings.append(
                    f"{self.where}: newsletter.unsubscribe_url is not in the built digest, "
                    "so it cannot be personalised; rebuild with this config"
                )
        return warnings

    def unsubscribe_url(self, r: Recipient) -> str:
        if not self.pattern:
            return ""

        def value(m: re.Match[str]) -> str:
            if m[1] == "email":
                return quote(r.email, safe="")
            token = (
                r.field("token")
                or hmac.new(
                    self.secret.encode(), r.email.lower().encode(), hashlib.sha256
                ).hexdigest()[:32]
            )
            return quote(token, safe="")

        return _PLACEHOLDER.sub(value, self.pattern)

    def message(
        self,
        r: Recipient,
        *,
        test: bool = False,
        message_id: str = "",
        now: dt.datetime | None = None,
    ) -> EmailMessage:
        msg = _parse(self.eml)
        _set(msg, "To", Address(display_name=r.name, addr_spec=r.email))
        if test:
            _set(msg, "Subject", "[TEST] " + self.subject)
        _set(msg, "Date", format_datetime(now or dt.datetime.now(dt.UTC)))
        _set(msg, "Message-ID", message_id or self.new_message_id())
        if self.pattern:
            self._personalise(msg, self.unsubscribe_url(r))
        return msg

    def message_bytes(
        self,
        r: Recipient,
        *,
        test: bool = False,
        message_id: str = "",
        now: dt.datetime | None = None,
    ) -> bytes:
        """The copy for ``r`` as it goes on the wire; the same message as
        :meth:`message`, without re-encoding the bodies when nothing in them changes."""
        if not self._fields:
            return message.to_bytes(self.message(r, test=test, message_id=message_id, now=now))
        body = self._body
        new: dict[str, str] = {}
        if self.pattern:
            url = self.unsubscribe_url(r)
            for raw, text, is_html in self._parts:
                body = body.replace(raw, _qp(self._substitute(text, url, is_html)), 1)
            for name, value in self._headers.items():
                new[name] = _link_header(name, value.replace(self.pattern, url))
        new |= {
            "To": str(Address(display_name=r.name, addr_spec=r.email)),
            "Date": format_datetime(now or dt.datetime.now(dt.UTC)),
            "Message-ID": message_id or self.new_message_id(),
        }
        if test:
            new["Subject"] = "[TEST] " + self.subject
        by_lower = {k.lower(): k for k in new}
        out: list[bytes] = []
        for name, raw in self._fields:
            if name in by_lower:
                key = by_lower.pop(name)
                out.append(_fold(key, new[key]))
            else:
                out.append(raw)
        out += [_fold(key, new[key]) for key in by_lower.values()]
        return b"".join(out) + b"\r\n" + body

    def _index_personal(self, template: EmailMessage) -> None:
        """Find where the link sits; when the body is not as :func:`message.compose`
        writes it (UTF-8 quoted-printable), copies take the slow path."""
        for part in template.walk():
            text = _text_of(part)
            if not any(form in text for form, _ in self._forms):
                continue
            raw = str(part.get_payload()).encode("ascii", "replace")
            plain = part.get("Content-Transfer-Encoding", "").lower() == "quoted-printable"
            if not plain or part.get_content_charset() != "utf-8" or self._body.count(raw) != 1:
                self._fields = []  # the slow path
                return
            self._parts.append((raw, text, part.get_content_type() == "text/html"))
        for name, value in template.items():
            if self.pattern in str(value):
                self._headers[name] = str(value)

    def _substitute(self, text: str, url: str, is_html: bool) -> str:
        for form, escaped in self._forms:
            if escaped and not is_html:
                continue
            text = text.replace(form, html.escape(url) if escaped else url)
        return text

    def new_message_id(self) -> str:
        return make_msgid(domain=self.id_domain)

    def _personalise(self, msg: EmailMessage, url: str) -> None:
        for part in msg.walk():
            ctype = part.get_content_type()
            if part.is_multipart() or ctype not in ("text/plain", "text/html"):
                continue
            assert isinstance(part, EmailMessage)
            old = _text_of(part)
            new = self._substitute(old, url, ctype == "text/html")
            if new != old:
                part.set_content(
                    new, subtype=ctype.split("/")[1], charset="utf-8", cte="quoted-printable"
                )
                del part["MIME-Version"]
        for name, value in list(msg.items()):
            if self.pattern in str(value):
                msg.replace_header(name, _link_header(name, str(value).replace(self.pattern, url)))


def _qp(text: str) -> bytes:
    """UTF-8 text as a quoted-printable payload, as the email package writes it."""
    lines = text.encode("utf-8").splitlines()
    data = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), 78)
    return data.replace("\n", "\r\n").encode("ascii")


def _link_header(name: str, value: str) -> str:
    """A header carrying links (List-Unsubscribe) stays as written, as #4 writes
    it: a URL turned into RFC 2047 encoded words is no longer a URL."""
    return message.RawHeader(name, value) if value.isascii() else value


def _fold(name: str, value: str) -> bytes:
    """One header field as wire bytes: RFC 2047 for non-ASCII, folded, CRLF."""
    if isinstance(value, message.RawHeader):
        return value.fold(policy=SMTP).encode("ascii")
    return str(SMTP.header_factory(name, value).fold(policy=SMTP)).encode("ascii")


def _parse(eml: bytes) -> EmailMessage:
    msg = email.message_from_bytes(eml, _class=EmailMessage, policy=SMTP)
    assert isinstance(msg, EmailMessage)
    return msg


def _text_of(part: Message) -> str:
    if part.is_multipart() or part.get_content_maintype() != "text":
        return ""
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def _set(msg: EmailMessage, name: str, value: object) -> None:
    if name in msg:
        msg.replace_header(name, value)
    else:
        msg[name] = value


def esp_payload(msg: EmailMessage) -> dict[str, object]:
    """What an ESP's HTTP API takes: from, to, subject, text, html, headers."""
    skip = {"from", "to", "subject", "date", "mime-version"}
    bodies = {"text/plain": "", "text/html": ""}
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in bodies and not bodies[ctype]:
            bodies[ctype] = _text_of(part).replace("\r\n", "\n")
    return {
        "from": str(msg["From"]),
        "to": str(msg["To"]),
        "subject": str(msg["Subject"]),
        "text": bodies["text/plain"],
        "html": bodies["text/html"],
        "headers": {
            k: str(v)
            for k, v in msg.items()
            if k.lower() not in skip and not k.lower().startswith("content-")
        },
    }


# --- the send loop -------------------------------------------------------------------------

SENT, ALREADY, REFUSED, REFUSED_BEFORE = "sent", "already sent", "refused", "refused before"
FAILED, UNCERTAIN, NOT_SENT, WRITTEN = "failed", "uncertain", "not sent", "written"
DELIVERED = (SENT, ALREADY, WRITTEN)


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient in this run; ``reply`` is the server's
    reply, or why nothing was sent."""

    email: str
    status: str
    reply: str = ""


@dataclass(frozen=True)
class SendReport:
    subject: str
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False
    dry_run: bool = False
    test: bool = False

    def of(self, *statuses: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def ok(self) -> bool:
        """Everyone has the digest (now or from an earlier run)."""
        return not self.interrupted and all(o.status in DELIVERED for o in self.outcomes)

    def summary(self, limit: int = 20) -> str:
        lines: list[str] = []
        if self.dry_run:
            lines.append(f"Dry run, nothing was sent. '{self.subject}' would go to:")
            lines += [f"  {o.email} -> {o.reply}" for o in self.of(WRITTEN)]
        n = len(self.of(SENT))
        what = f"'[TEST] {self.subject}'" if self.test else f"'{self.subject}'"
        if not self.dry_run:
            lines.append(f"Sent {what} to {n} recipient{'s' * (n != 1)}.")
        groups = (
            (ALREADY, "Already sent before (not sent again)", False),
            (REFUSED, "Refused by the server", True),
            (REFUSED_BEFORE, "Refused in an earlier run (not retried)", True),
            (FAILED, "Failed for now (a re-run tries them again)", True),
            (NOT_SENT, "Not sent yet (a re-run sends them)", True),
            (UNCERTAIN, "Uncertain (--resend-uncertain sends them again)", True),
        )
        for status, label, detail in groups:
            found = self.of(status)
            if not found:
                continue
            lines.append(f"{label}: {len(found)}")
            if not detail:
                continue
            for o in found[:limit]:
                lines.append(f"  {o.email}: {o.reply}")
            if len(found) > limit:
                lines.append(f"  ... and {len(found) - limit} more")
        if self.interrupted:
            lines.append("Interrupted: a re-run sends to the rest, nobody twice.")
        return "\n".join(lines)


class _Guard:
    """The first Ctrl-C (or SIGTERM) asks the loop to stop after the message in
    flight; a second one stops at once."""

    requested = False

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.requested and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))


@contextlib.contextmanager
def _interrupt_guard() -> Iterator[_Guard]:
    guard = _Guard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return

    def handler(signum: int, frame: object) -> None:
        if guard.requested:
            raise KeyboardInterrupt
        guard.requested = True

    signals = [signal.SIGINT, signal.SIGTERM]  # Ctrl-C, and a polite kill
    previous = [signal.signal(sig, handler) for sig in signals]
    try:
        yield guard
    finally:
        for sig, old in zip(signals, previous, strict=True):
            signal.signal(sig, old)


class _Pacer:
    """Starts of consecutive messages are at least 1/rate seconds apart."""

    def __init__(self, rate: float | None, guard: _Guard) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = 0.0
        self.guard = guard

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next > now:
            self.guard.sleep(self.next - now)
            now = time.monotonic()
        self.next = max(now, self.next) + self.interval


@dataclass(frozen=True)
class SendOptions:
    rate: float | None = None
    retries: int = 5
    backoff: float = 1.0
    envelope_from: str = ""
    resend_uncertain: bool = False
    test: bool = False
    dry_run: bool = False


def deliver_all(
    outbox: Outbox,
    recipients: Sequence[Recipient],
    transport: Transport,
    ledger: Ledger,
    options: SendOptions,
    progress: Callable[[Outcome], None] | None = None,
) -> SendReport:
    """Send one copy to each recipient not yet sent this issue; see the module doc."""
    issue = outbox.issue
    sender = options.envelope_from or outbox.sender.addr_spec
    outcomes: dict[str, Outcome] = {}
    record = not options.test

    def done(o: Outcome) -> None:
        outcomes[o.email.lower()] = o
        if progress:
            progress(o)

    entries = {}
    if record:
        ledger.register(issue, outbox.subject, [r.key for r in recipients])
        entries = ledger.entries(issue)
    queue: list[Recipient] = []
    message_ids: dict[str, str] = {}
    for r in recipients:
        e = entries.get(r.key)
        if e is not None and e.message_id:
            message_ids[r.key] = e.message_id  # a resend keeps its Message-ID
        if e is None or e.state == "pending":
            queue.append(r)
        elif e.state == "sent":
            done(Outcome(r.email, ALREADY, e.reply))
        elif e.state == "refused":
            done(Outcome(r.email, REFUSED_BEFORE, e.reply))
        elif options.resend_uncertain:
            queue.append(r)
        else:
            done(
                Outcome(
                    r.email,
                    UNCERTAIN,
                    "an earlier run stopped while sending this copy; "
                    "it may or may not have been delivered",
                )
            )

    attempts: dict[str, int] = {}
    due: dict[str, float] = {}  # a recipient deferred by a 4xx waits until then
    failures_in_a_row = 0
    sent_any = False
    stopped = ""
    interrupted = False
    mark = ledger.mark if record and not options.dry_run else _no_mark
    with _interrupt_guard() as guard:
        pacer = _Pacer(options.rate, guard)
        try:
            while queue:
                if guard.requested:
                    interrupted = True
                    break
                now = time.monotonic()
                picked = next((x for x in queue if due.get(x.key, 0.0) <= now), None)
                if picked is None:  # everyone left is waiting after a 4xx
                    wait = min(due[x.key] for x in queue) - now
                    if wait > 5:
                        transport.close()  # do not hold an idle connection open
                    guard.sleep(wait)
                    continue
                r = picked
                mid = message_ids.setdefault(r.key, outbox.new_message_id())
                try:
                    if not transport.is_open:
                        transport.open()
                    data = outbox.message_bytes(r, test=options.test, message_id=mid)
                    pacer.wait()
                    before = functools.partial(mark, issue, r.key, "sending", message_id=mid)
                    reply = transport.send(sender, r.email, data, before)
                except RefusedError as exc:
                    queue.remove(r)
                    mark(issue, r.key, "refused", exc.reply)
                    done(Outcome(r.email, REFUSED, exc.reply))
                    failures_in_a_row = 0
                except TransientError as exc:
                    # no 250 came back: by SMTP's rules the server did not take the
                    # message, so sending it again is right (at least once)
                    mark(issue, r.key, "pending", exc.reply)
                    n = attempts[r.key] = attempts.get(r.key, 0) + 1
                    if exc.connection:
                        transport.close()
                        failures_in_a_row += 1
                        if exc.connecting and not sent_any and failures_in_a_row == 1:
                            raise DigestError(
                                exc.reply,
                                hint="check --smtp-host, --smtp-port and --security, and "
                                "that the server is running",
                            ) from exc
                        if failures_in_a_row > options.retries:
                            stopped = f"gave up after {failures_in_a_row} tries: {exc.reply}"
                            break
                        guard.sleep(options.backoff * 2 ** (failures_in_a_row - 1))
                    elif n > options.retries:
                        queue.remove(r)
                        done(Outcome(r.email, FAILED, exc.reply))
                    else:  # this recipient waits; the others go on
                        due[r.key] = time.monotonic() + options.backoff * 2 ** (n - 1)
                else:
                    queue.remove(r)
                    sent_any = True
                    failures_in_a_row = 0
                    mark(issue, r.key, "sent", reply, defer=True)
                    done(Outcome(r.email, WRITTEN if options.dry_run else SENT, reply))
        finally:
            transport.close()
    why = "interrupted before its turn" if interrupted else stopped
    for r in queue:
        done(Outcome(r.email, NOT_SENT, why))
    order = {r.key: i for i, r in enumerate(recipients)}
    return SendReport(
        subject=outbox.subject,
        outcomes=tuple(sorted(outcomes.values(), key=lambda o: order[o.email.lower()])),
        interrupted=interrupted,
        dry_run=options.dry_run,
        test=options.test,
    )


def _no_mark(
    issue: str, email: str, state: str, reply: str = "", message_id: str = "", defer: bool = False
) -> None:
    return None


# --- what the CLI calls --------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A send, ready to go: the digest, the recipients and the warnings."""

    folder: Path
    outbox: Outbox
    recipients: tuple[Recipient, ...]
    warnings: tuple[str, ...]
    test: bool = False


def plan_send(
    config: Config,
    folder: str,
    to: Sequence[str] = (),
    recipients_csv: str | None = None,
    test_to: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """Read the built digest and the recipients; check everything before sending."""
    env = os.environ if environ is None else environ
    outbox = Outbox.load(Path(folder), config.newsletter.unsubscribe_url, env.get(SECRET_ENV, ""))
    warnings: list[str] = []
    if test_to:
        people = [parse_recipient(test_to, "--test")]
    elif recipients_csv:
        people = read_csv(recipients_csv)
    else:
        people = from_args(to)
    people, dropped = dedupe(people)
    if dropped:
        warnings.append(f"{dropped} duplicate address{'es' * (dropped != 1)} sent only once")
    warnings += outbox.check(people)
    return Plan(Path(folder), outbox, tuple(people), tuple(warnings), test=bool(test_to))


def run_send(
    plan: Plan,
    config: SmtpConfig,
    *,
    dry_run: bool = False,
    resend_uncertain: bool = False,
    new_issue: bool = False,
    progress: Callable[[Outcome], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SendReport:
    """Send ``plan`` through SMTP, or into ``outbox/`` with ``dry_run``."""
    options = SendOptions(
        rate=None if dry_run else parse_rate(config.rate, "smtp.rate / --rate"),
        retries=config.retries,
        backoff=config.backoff,
        envelope_from=config.envelope_from,
        resend_uncertain=resend_uncertain,
        test=plan.test,
        dry_run=dry_run,
    )
    if config.envelope_from and normalize_address(config.envelope_from) is None:
        raise DigestError(
            f"smtp.envelope_from: not an email address: {config.envelope_from!r}",
            hint="e.g. bounces@example.org",
        )
    transport: Transport
    if dry_run:
        transport = BACKENDS["file"](plan.folder / OUTBOX_DIR)
    else:
        transport = BACKENDS["smtp"](smtp_settings(config, environ))
    with open_ledger(plan.folder, readonly=dry_run or plan.test) as ledger:
        if not new_issue and not plan.test:
            earlier = ledger.other_issues(plan.outbox.issue, plan.outbox.subject)
            if earlier:
                raise DigestError(
                    f"{ledger.path}: {earlier} recipient(s) were already sent a different "
                    f"build of '{plan.outbox.subject}'; sending this one would give them two",
                    hint="send the build you started with, or pass --new-issue to send "
                    "this one to everyone",
                )
        return deliver_all(plan.outbox, plan.recipients, transport, ledger, options, progress)


def export_json(plan: Plan, out: str) -> list[Path]:
    """One ESP API payload (JSON) per recipient, written into ``out``."""
    files = []
    for i, r in enumerate(plan.recipients, 1):
        payload = esp_payload(plan.outbox.message(r, test=plan.test))
        data = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        files.append((f"{i:04d}-{file_slug(r.email)}.json", data.encode("utf-8")))
    return write_files(out, Rendered(files=tuple(files)))
