"""``digest preview``: a live preview of the digest in a browser.

Builds into a temporary folder (never ``out/``), serves it on 127.0.0.1 and
rebuilds whenever an article, a template or the config file changes. Parts:

- :func:`snapshot` / :func:`changes`: what is watched, by polling file
  times (portable, no extra dependency);
- :class:`Preview`: the state the server shows: the last good build (with
  what ``digest check`` finds in it), the last error, whether a build is
  running. A failed build keeps the last good one;
- :class:`Handler`: answers a fixed set of paths only. A file is served when
  the request path is exactly ``/`` plus the name of a file of the build,
  compared as a string without decoding, so ``/../x``, ``%2e%2e%2f``,
  backslashes and absolute paths can never name anything else (404);
- :func:`serve`: binds 127.0.0.1 (the next free port when the one asked for
  is taken), starts the watcher and serves until Ctrl-C.

The preview page is ours and has a small script (``/__preview/preview.js``)
that polls ``/__preview/state`` and swaps in the new build without a page
reload. The email itself is shown in a sandboxed iframe without scripts, and
``/digest.html`` is served with a policy that forbids them. Everything from
the build shown on the page (subject, preheader, text version, errors) is
HTML-escaped.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import errno
import html
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from .config import DEFAULT_CONFIG_NAME, Config
from .errors import DigestError

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PORT_TRIES = 20  # a busy port: try this many following ones
POLL_SECONDS = 0.3  # how often the watcher looks at the inputs
SETTLE_SECONDS = 0.15  # wait for a burst of saves to end before building
TICK_SECONDS = 2.0  # a build longer than this prints "still building" lines

Log = Callable[[str], None]
ConfigLoader = Callable[[], Config]

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".eml": "message/rfc822",
}
EMAIL_POLICY = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'"
)


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def has_display(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a browser can be opened: always on macOS and Windows; on Linux
    and other Unixes only with an X11 or Wayland display."""
    env = dict(os.environ) if env is None else env
    platform = platform or sys.platform
    if platform.startswith(("darwin", "win")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


# --- watching -----------------------------------------------------------------

Stamp = tuple[int, int, int] | None  # (mtime_ns, size, inode); None: missing
Snapshot = dict[str, Stamp]


def watched_paths(config: Config, sources: Sequence[str]) -> list[Path]:
    """The sources, the built-in and the user's templates, and the config file
    (watched even when it does not exist yet, so creating it counts)."""
    from .render import builtin_templates

    paths = [Path(s) for s in (sources or config.build.sources)]
    with contextlib.suppress(DigestError):  # no built-in templates: the build says so
        paths.append(builtin_templates())
    if config.templates.dir:
        paths.append(Path(config.templates.dir))
    paths.append(Path(config.path or DEFAULT_CONFIG_NAME))
    return paths


def _ignored(name: str) -> bool:
    """Hidden files (the loader skips them too) and editor backups."""
    return name.startswith(".") or name.endswith("~")


def _stamp(path: Path) -> Stamp:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """Stamps of every file under ``paths``; a missing path is recorded as None."""
    snap: Snapshot = {}
    for root in paths:
        if not root.is_dir():
            snap[str(root)] = _stamp(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not _ignored(d))
            for name in sorted(filenames):
                if not _ignored(name):
                    path = os.path.join(dirpath, name)
                    snap[path] = _stamp(Path(path))
    return snap


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The paths added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


# --- what the page shows ------------------------------------------------------

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\ufeff]")


class _TextOfBody(HTMLParser):
    """The text of an HTML body in document order, hidden text included:
    that is what inbox lists take their preview line (preheader) from."""

    SKIP = frozenset({"head", "style", "script", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in {"p", "div", "br", "li", "h1", "h2", "h3", "td", "tr"}:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def preheader_of(html_text: str, limit: int = 140) -> str:
    """The preview line an inbox shows after the subject: the first text of
    the email (a hidden preheader first, when there is one)."""
    parser = _TextOfBody()
    parser.feed(html_text)
    parser.close()
    text = " ".join(_INVISIBLE.sub("", "".join(parser.parts)).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class Envelope:
    """What an inbox list shows of a message."""

    sender: str
    subject: str
    date: str


def envelope_of(eml: bytes | None, fallback_subject: str, fallback_sender: str) -> Envelope:
    """Sender name, subject and date as the written ``digest.eml`` carries them."""
    if eml:
        msg = email.message_from_bytes(eml, policy=email.policy.default)
        subject = str(msg.get("Subject", fallback_subject))
        sender = str(msg.get("From", fallback_sender))
        date = ""
        date_header = msg.get("Date")
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            when = date_header.datetime if date_header is not None else None
            date = f"{when.day} {when:%b}" if when else ""
    else:
        subject, sender, date = fallback_subject, fallback_sender, ""
    name = email.utils.parseaddr(sender)[0] or email.utils.parseaddr(sender)[1] or sender
    return Envelope(sender=name, subject=subject, date=date)


Finding = tuple[str, str]  # (level, "rule: detail")


def check_findings(files: dict[str, bytes], config: Config) -> tuple[Finding, ...]:
    """What ``digest check`` says about a build. A crash of the checker is
    shown as a finding; it does not fail the preview."""
    from .check import check_files

    try:
        return tuple((f.level, f"{f.rule}: {f.detail}") for f in check_files(files, config))
    except Exception as exc:
        return (("error", f"digest check failed: {type(exc).__name__}: {exc}"),)


@dataclass(frozen=True)
class GoodBuild:
    """A successful build, written into ``folder``."""

    number: int
    folder: Path
    names: tuple[str, ...]
    envelope: Envelope
    preheader: str
    text: str
    articles: int
    sections: int
    warnings: tuple[str, ...]  # build warnings other than the findings
    findings: tuple[Finding, ...]
    seconds: float
    finished: str


class _Ticker:
    """Prints "still building" with the elapsed time and the articles done so
    far, every ``every`` seconds while a long build runs."""

    def __init__(self, log: Log, every: float, started: float) -> None:
        self.log, self.every, self.started = log, every, started
        self.status = ""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="digest-preview-ticker", daemon=True)

    def __enter__(self) -> _Ticker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()

    def progress(self, done: int, total: int) -> None:
        """The pipeline's callback after each summarized article."""
        self.status = f" ({done}/{total} articles summarized)"

    def _run(self) -> None:
        while not self.done.wait(self.every):
            elapsed = time.monotonic() - self.started
            self.log(f"  still building… {elapsed:.0f} s{self.status}")


def _clock() -> str:
    return time.strftime("%H:%M:%S")


class Preview:
    """The last good build, the last error, and the rebuild that produces them.

    ``generation`` grows whenever anything the page shows changes (a build
    starts, succeeds or fails), so the page knows when to refresh itself.
    """

    def __init__(
        self,
        root: Path,
        load_config: ConfigLoader,
        sources: Sequence[str],
        config: Config,
        log: Log = stderr_log,
        debug: bool = False,
        tick: float = TICK_SECONDS,
    ) -> None:
        self.root = root
        self.load_config = load_config
        self.sources = tuple(sources)
        self.config = config
        self.log = log
        self.debug = debug
        self.tick = tick
        self.lock = threading.Lock()
        self.generation = 0
        self.count = 0
        self.building = False
        self.closed = False
        self.good: GoodBuild | None = None
        self.error: str | None = None

    # state ----------------------------------------------------------------
    def _bump(self, **changes: Any) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, value)
            self.generation += 1

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "generation": self.generation,
                "build": self.good.number if self.good else 0,
                "building": self.building,
                "error": self.error,
            }

    def watched(self) -> list[Path]:
        return watched_paths(self.config, self.sources)

    def read(self, name: str) -> bytes | None:
        """A file of the last good build by its exact name, else None. Only the
        names the build wrote are served, and never through a symlink."""
        with self.lock:
            good = self.good
        if good is None or name not in good.names:
            return None
        path = good.folder / name
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            if path.is_symlink():
                return None
            fd = os.open(path, flags)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            return fh.read()

    # building -------------------------------------------------------------
    def rebuild(self, reason: str = "") -> bool:
        """Build into a new folder of ``root``; True when it worked. Errors are
        shown (terminal and page), never raised: the last good build stays."""
        from . import deliver
        from .load import read_archive
        from .pipeline import build

        started = time.monotonic()
        self._bump(building=True)
        self.log(f"{_clock()} building{reason}…")
        number = self.count + 1
        try:
            with _Ticker(self.log, self.tick, started) as ticker:
                config = self.load_config()
                self.config = config
                # the real archive numbers the issue, as `digest build` would
                archive = read_archive(config.build.out)
                result = build(config, self.sources or None, ticker.progress, archive=archive)
                if self.closed:
                    return False
                folder = self.root / f"build-{number}"
                deliver.write_files(str(folder), result.rendered)
                good = self._describe(number, folder, result, config, started)
        except DigestError as exc:
            message = f"error: {exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else "")
            return self._failed(message)
        except KeyboardInterrupt:  # Ctrl-C reached the worker processes of the build
            return self._failed("error: the build was interrupted")
        except Exception as exc:  # a bug must not stop the preview: show it
            if self.debug:
                self.log(traceback.format_exc().rstrip())
            message = (
                f"error: unexpected {type(exc).__name__}: {exc} "
                "(this is a bug in digest; rerun with --debug and report it)"
            )
            return self._failed(message)
        self.count = number
        with self.lock:
            previous = self.good
        self._bump(good=good, error=None, building=False)
        if previous is not None:
            shutil.rmtree(previous.folder, ignore_errors=True)
        for warning in good.warnings:
            self.log(f"warning: {warning}")
        for level, text in good.findings:
            self.log(f"check: {level}: {text}")
        self.log(
            f"{_clock()} built {good.articles} article{'s' * (good.articles != 1)} in "
            f"{good.sections} section{'s' * (good.sections != 1)} in {good.seconds:.1f} s"
        )
        return True

    def _failed(self, message: str) -> bool:
        if self.closed:
            return False
        self._bump(error=message, building=False)
        self.log(message)
        if self.good is not None:
            self.log("  (the preview still shows the last good build)")
        return False

    def _describe(
        self, number: int, folder: Path, result: Any, config: Config, started: float
    ) -> GoodBuild:
        rendered = result.rendered
        names = tuple(name for name, _ in rendered.files)
        html_text = rendered.get("digest.html").decode("utf-8", "replace")
        text = rendered.get("digest.txt").decode("utf-8", "replace")
        eml = rendered.get("digest.eml") if "digest.eml" in names else None
        findings = check_findings(dict(rendered.files), config)
        # the pipeline adds the findings to its warnings; show them once, as findings
        found = tuple(text for _, text in findings)
        warnings = tuple(w for w in result.warnings if not w.startswith(found))
        return GoodBuild(
            number=number,
            folder=folder,
            names=names,
            envelope=envelope_of(eml, result.digest.title, config.newsletter.sender),
            preheader=preheader_of(html_text),
            text=text,
            articles=len(result.digest.articles),
            sections=len(result.digest.sections),
            warnings=warnings,
            findings=findings,
            seconds=time.monotonic() - started,
            finished=_clock(),
        )

    def watch(self, stop: threading.Event, interval: float = POLL_SECONDS) -> None:
        """Build once, then rebuild whenever a watched file changes, until ``stop``."""
        paths = self.watched()
        before = snapshot(paths)
        self.rebuild()
        while not stop.wait(interval):
            after = snapshot(paths)
            if after == before:
                continue
            # let a burst of saves (an editor, a git checkout) settle first
            while not stop.wait(SETTLE_SECONDS):
                settled = snapshot(paths)
                if settled == after:
                    break
                after = settled
            if stop.is_set():
                break
            changed = changes(before, after)
            before = after
            shown = ", ".join(_relative(p) for p in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            self.rebuild(f" ({shown}{more} changed)")
            if self.watched() != paths:  # the config names other sources or templates now
                paths = self.watched()
                before = snapshot(paths)

    # the page -------------------------------------------------------------
    def page(self) -> str:
        """The preview page. Every value from the build is escaped here."""
        with self.lock:
            good, error, building, generation = (
                self.good,
                self.error,
                self.building,
                self.generation,
            )
        return render_page(good, error, building, generation)


def _relative(path: str) -> str:
    with contextlib.suppress(ValueError):
        return os.path.relpath(path)
    return path


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_page(good: GoodBuild | None, error: str | None, building: bool, generation: int) -> str:
    """The HTML of ``/``: status, error banner, inbox line, the email in an
    iframe (desktop, mobile) or its text version, and the check findings."""
    if building:
        status = "Rebuilding…"
    elif error:
        status = "Build failed"
    elif good:
        status = (
            f"Up to date · built {good.finished} in {good.seconds:.1f} s · "
            f"{good.articles} article{'s' * (good.articles != 1)} in "
            f"{good.sections} section{'s' * (good.sections != 1)}"
        )
    else:
        status = "Building the first preview…"

    problem = ""
    if error:
        behind = (
            f"The preview below is the last good build ({_e(good.finished)})."
            if good
            else "There is no good build yet."
        )
        problem = (
            f'<div id="problem" role="alert"><strong>The build failed.</strong>'
            f"<pre>{_e(error)}</pre><p>{behind} Fix the problem and save: "
            "it rebuilds by itself.</p></div>"
        )
    else:
        problem = '<div id="problem" hidden></div>'

    if good:
        env = good.envelope
        inbox = (
            '<section id="inbox" aria-label="As an inbox list shows it">'
            '<div class="row"><span class="from">'
            f"{_e(env.sender)}</span>"
            f'<span class="lines"><span class="subject">{_e(env.subject)}</span>'
            f'<span class="sep"> – </span><span class="preheader">{_e(good.preheader)}</span>'
            f'</span><span class="date">{_e(env.date)}</span></div>'
            f'<p class="counts">Subject: {len(env.subject)} characters · preheader: the first '
            "text of the email, as inbox lists show it after the subject</p></section>"
        )
        text = f'<pre id="text-view">{_e(good.text)}</pre>'
        src = f"/digest.html?build={good.number}"
        warnings = "".join(f"<li>{_e(w)}</li>" for w in good.warnings)
        errors = sum(level == "error" for level, _ in good.findings)
        checks = (
            f"<p>digest check: {errors} error{'s' * (errors != 1)}, "
            f"{len(good.findings) - errors} warning{'s' * (len(good.findings) - errors != 1)}</p>"
        )
        if good.findings:
            items = "".join(
                f'<li class="{_e(level)}">{_e(level)}: {_e(text)}</li>'
                for level, text in good.findings
            )
            checks += f"<ul>{items}</ul>"
        findings = (
            f'<section id="findings">{checks}'
            + (f"<p>Build warnings:</p><ul>{warnings}</ul>" if warnings else "")
            + "</section>"
        )
        build_number = good.number
    else:
        inbox = '<section id="inbox"></section>'
        text = '<pre id="text-view"></pre>'
        src = "about:blank"
        findings = '<section id="findings"></section>'
        build_number = 0

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>digest preview</title>
<style>{PAGE_CSS}</style>
<script src="/__preview/preview.js" defer></script>
</head>
<body data-generation="{generation}" data-build="{build_number}">
<header>
<strong>digest preview</strong>
<span id="status" role="status">{_e(status)}</span>
<nav aria-label="View">
<button type="button" data-view="desktop" aria-pressed="true">Desktop (600 px+)</button>
<button type="button" data-view="mobile" aria-pressed="false">Mobile (375 px)</button>
<button type="button" data-view="text" aria-pressed="false">Text</button>
<button type="button" id="dark" aria-pressed="false">Dark mode</button>
<a href="/digest.html" target="_blank">digest.html</a>
<a href="/digest.txt" target="_blank">digest.txt</a>
</nav>
</header>
{problem}
{inbox}
<main>
<div id="frame-wrap"><iframe id="email" title="The email" src="{src}"
 sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"></iframe></div>
{text}
</main>
{findings}
</body></html>
"""


PAGE_CSS = """
:root { color-scheme: light; --bg: #e9ebef; --fg: #1f2328; --card: #fff; --muted: #57606a; }
body[data-dark="true"] { color-scheme: dark; --bg: #111418; --fg: #e6e6e6; --card: #1c2128;
  --muted: #9aa4ae; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 10px 16px;
  background: var(--card); border-bottom: 1px solid #8884; position: sticky; top: 0; z-index: 2; }
header nav { display: flex; gap: 6px; flex-wrap: wrap; margin-left: auto; align-items: center; }
button { font: inherit; padding: 4px 10px; border: 1px solid #8888; border-radius: 6px;
  background: var(--card); color: var(--fg); cursor: pointer; }
button[aria-pressed="true"] { background: #0b5cab; color: #fff; border-color: #0b5cab; }
header a { color: inherit; font-size: 13px; }
#status { color: var(--muted); }
#problem { margin: 12px auto; max-width: 800px; padding: 10px 14px; border-radius: 8px;
  background: #ffebe9; color: #82071e; border: 1px solid #ff818266; position: sticky; top: 52px;
  z-index: 1; box-shadow: 0 2px 8px #0003; }
#problem pre { white-space: pre-wrap; margin: 6px 0; }
#inbox { margin: 12px auto; max-width: 800px; }
#inbox .row { display: flex; gap: 12px; align-items: baseline; padding: 10px 14px;
  background: var(--card); border-radius: 8px; white-space: nowrap; overflow: hidden; }
#inbox .from { font-weight: 700; flex: 0 0 auto; max-width: 180px; overflow: hidden;
  text-overflow: ellipsis; }
#inbox .lines { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; }
#inbox .subject { font-weight: 700; }
#inbox .preheader, #inbox .sep, #inbox .counts, #inbox .date { color: var(--muted); }
#inbox .counts { font-size: 12px; margin: 4px 14px; }
body[data-view="mobile"] #inbox { max-width: 375px; }
body[data-view="mobile"] #inbox .row { flex-wrap: wrap; white-space: normal; }
body[data-view="mobile"] #inbox .lines { flex-basis: 100%; display: -webkit-box;
  -webkit-box-orient: vertical; -webkit-line-clamp: 3; }
body[data-view="mobile"] #inbox .subject { display: block; }
body[data-view="mobile"] #inbox .sep { display: none; }
main { display: flex; justify-content: center; padding: 0 16px 16px; overflow-x: auto; }
#email { width: 800px; height: 600px; border: 0; background: #fff; display: block;
  box-shadow: 0 1px 6px #0002; }
body[data-view="mobile"] #email { width: 375px; }
body[data-view="text"] #frame-wrap { display: none; }
#text-view { display: none; width: 80ch; max-width: 100%; margin: 0; padding: 16px;
  background: var(--card); white-space: pre-wrap; font: 14px/1.5 ui-monospace, Menlo, monospace; }
body[data-view="text"] #text-view { display: block; }
#findings { margin: 0 auto 24px; max-width: 800px; color: var(--muted); font-size: 14px; }
#findings li.error { color: #cf222e; }
#findings li.warning { color: #9a6700; }
"""

PAGE_JS = r"""
"use strict";
(function () {
  var KEY = "digest-preview";
  var ui = { view: "desktop", dark: false };
  try { Object.assign(ui, JSON.parse(sessionStorage.getItem(KEY) || "{}")); } catch (e) {}
  var generation = Number(document.body.dataset.generation);
  var DARK = "html{filter:invert(1) hue-rotate(180deg);background:#fff}" +
    "img,picture,video,[style*='background-image']{filter:invert(1) hue-rotate(180deg)}";

  function frame() { return document.getElementById("email"); }

  // Dark mode as mail clients do it: the email's own prefers-color-scheme:
  // dark rules when it has them (Apple Mail), else inverted colours (Gmail).
  function darkCss(doc) {
    var rules = [];
    for (var i = 0; i < doc.styleSheets.length; i++) {
      var list;
      try { list = doc.styleSheets[i].cssRules; } catch (e) { continue; }
      for (var j = 0; j < list.length; j++) {
        var r = list[j];
        if (r.media && /prefers-color-scheme\s*:\s*dark/.test(r.media.mediaText)) {
          for (var k = 0; k < r.cssRules.length; k++) rules.push(r.cssRules[k].cssText);
        }
      }
    }
    return rules.length ? rules.join("\n") : DARK;
  }

  function fit() {
    var f = frame(), doc = f.contentDocument;
    if (!doc || !doc.documentElement) return;
    f.style.height = "100px";
    f.style.height = doc.documentElement.scrollHeight + "px";
  }

  function styleFrame() {
    var doc = frame().contentDocument;
    if (!doc || !doc.head) return;
    var old = doc.getElementById("digest-preview-dark");
    if (old) old.remove();
    if (ui.dark) {
      var style = doc.createElement("style");
      style.id = "digest-preview-dark";
      style.textContent = darkCss(doc);
      doc.head.appendChild(style);
    }
    doc.querySelectorAll("a[href]").forEach(function (a) { a.target = "_blank"; });
    fit();
  }

  function apply() {
    document.body.dataset.view = ui.view;
    document.body.dataset.dark = String(ui.dark);
    document.querySelectorAll("button[data-view]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.view === ui.view));
    });
    document.getElementById("dark").setAttribute("aria-pressed", String(ui.dark));
    try { sessionStorage.setItem(KEY, JSON.stringify(ui)); } catch (e) {}
    requestAnimationFrame(styleFrame);
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) return;
    if (b.dataset.view) ui.view = b.dataset.view;
    if (b.id === "dark") ui.dark = !ui.dark;
    apply();
  });
  frame().addEventListener("load", styleFrame);
  window.addEventListener("resize", fit);

  // Live reload: poll the state; when it changed, fetch the page and swap in
  // its parts (escaped by the server), and point the iframe at the new build.
  function refresh() {
    return fetch("/", { cache: "no-store" }).then(function (r) { return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        ["status", "problem", "inbox", "text-view", "findings"].forEach(function (id) {
          var mine = document.getElementById(id), theirs = doc.getElementById(id);
          if (mine && theirs) mine.replaceWith(document.importNode(theirs, true));
        });
        var build = doc.body.dataset.build;
        if (build !== document.body.dataset.build && build !== "0") {
          frame().src = "/digest.html?build=" + build;
        }
        document.body.dataset.build = build;
        generation = Number(doc.body.dataset.generation);
        apply();
      });
  }

  function poll() {
    fetch("/__preview/state", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) { return s.generation !== generation ? refresh() : null; })
      .catch(function () {
        document.getElementById("status").textContent = "The preview server has stopped.";
      })
      .then(function () { setTimeout(poll, 400); });
  }

  apply();
  setTimeout(poll, 400);
})();
"""


# --- the server ---------------------------------------------------------------


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = not sys.platform.startswith("win")  # Windows: would share the port

    def __init__(self, address: tuple[str, int], preview: Preview) -> None:
        self.preview = preview
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the browser went away mid-answer
        self.preview.log(f"warning: preview server: {type(exc).__name__}: {exc}")


class Handler(BaseHTTPRequestHandler):
    """Answers ``/``, the build's files by exact name, and the page's own two
    resources. Anything else, however spelled, is a 404."""

    server: PreviewServer
    server_version = "digest-preview"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no line per request in the terminal

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _host_ok(self) -> bool:
        """Refuse other Host names, so a web page cannot reach the preview
        through DNS rebinding. No Host header (HTTP/1.0) is fine."""
        host = self.headers.get("Host")
        if host is None:
            return True
        port = self.server.server_address[1]
        return host.lower() in {f"{HOST}:{port}", f"localhost:{port}"}

    def _answer(self, send_body: bool) -> None:
        preview = self.server.preview
        if not self._host_ok():
            self._send(403, b"forbidden host\n", "text/plain; charset=utf-8", send_body)
            return
        path = self.path.split("?", 1)[0]
        if path == "/":
            body = preview.page().encode("utf-8")
            self._send(200, body, CONTENT_TYPES[".html"], send_body, PAGE_POLICY)
        elif path == "/__preview/state":
            body = json.dumps(preview.state()).encode("utf-8")
            self._send(200, body, CONTENT_TYPES[".json"], send_body)
        elif path == "/__preview/preview.js":
            self._send(200, PAGE_JS.encode("utf-8"), "text/javascript; charset=utf-8", send_body)
        else:
            data = preview.read(path[1:]) if path.startswith("/") else None
            if data is None:
                self._send(404, b"not found\n", "text/plain; charset=utf-8", send_body)
                return
            suffix = os.path.splitext(path)[1]
            kind = CONTENT_TYPES.get(suffix, "application/octet-stream")
            self._send(200, data, kind, send_body, EMAIL_POLICY)

    def _send(
        self, status: int, body: bytes, kind: str, send_body: bool, policy: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if policy:
            self.send_header("Content-Security-Policy", policy)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def bind(preview: Preview, port: int, log: Log) -> PreviewServer:
    """A server on 127.0.0.1:``port``; if that port is taken, the next free
    one (saying so). Port 0 lets the system choose."""
    last = port if port == 0 else min(port + PORT_TRIES - 1, 65535)
    busy = {errno.EADDRINUSE, errno.EACCES, getattr(errno, "WSAEADDRINUSE", -1)}
    for candidate in range(port, last + 1):
        try:
            server = PreviewServer((HOST, candidate), preview)
        except OSError as exc:
            if exc.errno in busy:
                continue
            raise DigestError(
                f"cannot listen on {HOST}:{candidate}: {exc.strerror or exc}",
                hint="pick another port with --port, or --port 0 for any free one",
            ) from exc
        if candidate != port:
            log(f"port {port} is in use; using {candidate} instead")
        return server
    raise DigestError(
        f"ports {port}–{last} on {HOST} are all in use",
        hint="pick another port with --port, or --port 0 for any free one",
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so both clean up the temporary folder."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(
    load_config: ConfigLoader,
    sources: Sequence[str] = (),
    port: int = DEFAULT_PORT,
    on_ready: Callable[[str], None] | None = None,
    log: Log = stderr_log,
    debug: bool = False,
) -> None:
    """Serve the live preview until Ctrl-C (or SIGTERM); then remove the
    temporary build folder. A bad config at start is a DigestError; any
    later problem is shown on the page instead."""
    config = load_config()
    with tempfile.TemporaryDirectory(prefix="digest-preview-") as tmp:
        preview = Preview(Path(tmp), load_config, sources, config, log=log, debug=debug)
        server = bind(preview, port, log)
        stop = threading.Event()
        watcher = threading.Thread(
            target=preview.watch, args=(stop,), name="digest-preview-watch", daemon=True
        )
        url = f"http://{HOST}:{server.server_address[1]}/"
        with _sigterm_as_interrupt():
            try:
                log(f"building into {tmp} (removed when the preview stops)")
                watcher.start()
                if on_ready is not None:
                    on_ready(url)
                server.serve_forever(poll_interval=0.25)
            except KeyboardInterrupt:
                pass
            finally:
                preview.closed = True
                stop.set()
                server.server_close()
                watcher.join(timeout=10)
                log("preview stopped")
