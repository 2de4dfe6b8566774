"""The send ledger: who has been sent which issue of the digest.

One SQLite file beside the digest (``send-ledger.sqlite``) holds one row per
(issue, recipient). ``issue`` identifies the built digest (a hash of
``digest.eml``), so a rebuilt digest with different content is a new issue.

States and what a re-run does with them:

``pending``
    not yet accepted by the server: sent on the next run.
``sending``
    written (and committed) just before the message's DATA, cleared when the
    server's reply arrives. A row is left ``sending`` only when the process
    died in between (killed, power loss, a second Ctrl-C): the server may or
    may not have accepted the message. A re-run does **not** send it again
    (at-most-once) but reports it as uncertain and exits non-zero;
    ``--resend-uncertain`` sends it again (at-least-once), for when a missing
    copy is worse than a doubled one.
``sent``
    the server answered 250 to the end of DATA: never sent again.
``refused``
    the server refused the recipient permanently (5xx): reported, not retried.

Every change is committed with ``synchronous=FULL`` before the conversation
with the server goes on, with one saving: ``sent`` is committed together with
the next recipient's ``sending`` (one disk sync per message, not two). A crash
in between leaves that recipient ``sending``, i.e. uncertain and not sent
again: the same guarantee, a slightly wider window. A lock file keeps two ``digest send`` runs
from working on the same ledger at once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .errors import DigestError

LEDGER_NAME = "send-ledger.sqlite"
STATES = ("pending", "sending", "sent", "refused")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    issue TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sends (
    issue TEXT NOT NULL,
    email TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'refused')),
    reply TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL,
    PRIMARY KEY (issue, email)
);
"""


@dataclass(frozen=True)
class Entry:
    """One recipient's row for one issue."""

    email: str
    state: str
    reply: str = ""
    message_id: str = ""
    attempts: int = 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Ledger:
    """The ledger of one digest folder. ``readonly`` (dry runs) never writes;
    a missing file then reads as empty."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._deferred: list[tuple[object, ...]] = []
        try:
            if readonly:
                if path.is_file():
                    self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                else:
                    self._db = sqlite3.connect(":memory:")
                    self._db.executescript(_SCHEMA)
            else:
                self._db = sqlite3.connect(path, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise DigestError(
                f"{path}: cannot open the send ledger: {exc}",
                hint="check that the folder is writable and the file is the ledger digest wrote",
            ) from exc

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()

    def register(self, issue: str, subject: str, emails: Iterable[str]) -> None:
        """Add the issue and a ``pending`` row for every recipient not seen yet."""
        if self.readonly:
            return
        now = _now()
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT OR IGNORE INTO issues (issue, subject, created) VALUES (?, ?, ?)",
                    (issue, subject, now),
                )
                self._db.executemany(
                    "INSERT OR IGNORE INTO sends (issue, email, state, updated) "
                    "VALUES (?, ?, 'pending', ?)",
                    ((issue, e, now) for e in emails),
                )
        except sqlite3.Error as exc:
            raise DigestError(
                f"{self.path}: cannot update the send ledger: {exc}",
                hint="free some disk space or check the folder's permissions",
            ) from exc

    def entries(self, issue: str) -> dict[str, Entry]:
        rows = self._db.execute(
            "SELECT email, state, reply, message_id, attempts FROM sends WHERE issue = ?",
            (issue,),
        )
        return {r[0]: Entry(*r) for r in rows}

    def other_issues(self, issue: str, subject: str) -> int:
        """How many recipients were sent another issue with the same subject."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM sends JOIN issues USING (issue) "
            "WHERE issue != ? AND subject = ? AND state IN ('sent', 'sending')",
            (issue, subject),
        ).fetchone()
        return int(row[0])

    def mark(
        self,
        issue: str,
        email: str,
        state: str,
        reply: str = "",
        message_id: str = "",
        defer: bool = False,
    ) -> None:
        """Record one recipient's new state: committed before returning, or with
        ``defer`` together with the next change (or :meth:`flush`, or closing)."""
        assert state in STATES
        bump = 1 if state == "sending" else 0
        self._deferred.append((state, reply, message_id, bump, _now(), issue, email))
        if not defer:
            self.flush()

    def flush(self) -> None:
        rows, self._deferred = self._deferred, []
        if self.readonly or not rows:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "UPDATE sends SET state = ?, reply = ?, message_id = COALESCE(NULLIF(?, ''), "
                    "message_id), attempts = attempts + ?, updated = ? "
                    "WHERE issue = ? AND email = ?",
                    rows,
                )
        except sqlite3.Error as exc:
            raise DigestError(
                f"{self.path}: cannot update the send ledger: {exc}",
                hint="free some disk space; then re-run: nobody is sent twice",
            ) from exc


@contextmanager
def open_ledger(folder: Path, readonly: bool = False) -> Iterator[Ledger]:
    """The ledger of ``folder``, locked against a second ``digest send``."""
    path = folder / LEDGER_NAME
    with _lock(folder, readonly):
        ledger = Ledger(path, readonly)
        try:
            yield ledger
        finally:
            ledger.close()


@contextmanager
def no_send_running(folder: Path, shown: str) -> Iterator[None]:
    """Hold ``folder``'s ledger lock, if it has a ledger, while a build replaces
    the folder; raise if a ``digest send`` holds it. A send writes its record
    of who got the digest into the folder it started on: replacing that
    folder under it would lose those writes, and a re-run could send twice."""
    try:
        fh = (folder / (LEDGER_NAME + ".lock")).open("r")
    except OSError:  # no ledger lock: nothing was ever sent from here
        yield
        return
    busy = DigestError(
        f"{shown}: a 'digest send' is sending from this folder; nothing was written",
        hint="wait for the send to finish, or build into another folder with -o/--out",
    )
    with _held(fh, busy):
        yield


@contextmanager
def _lock(folder: Path, readonly: bool) -> Iterator[None]:
    if readonly:
        yield
        return
    lock_path = folder / (LEDGER_NAME + ".lock")
    try:
        fh = lock_path.open("a")
    except OSError as exc:
        raise DigestError(
            f"{lock_path}: cannot create the ledger lock: {exc.strerror or exc}",
            hint="check that the digest folder is writable",
        ) from exc
    busy = DigestError(
        f"{folder}: another 'digest send' is working on this digest",
        hint="wait for it to finish; running two at once could send twice",
    )
    with _held(fh, busy):
        yield


@contextmanager
def _held(fh: IO[str], busy: DigestError) -> Iterator[None]:
    """An exclusive lock on the open lock file ``fh`` (closed afterwards), or
    ``busy`` raised when another process holds it. Without ``fcntl`` (not
    POSIX) nothing is locked: sends and builds take no lock there."""
    with fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise busy from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
