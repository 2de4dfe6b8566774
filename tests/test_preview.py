"""digest preview: the watcher, the page, and the real server end to end.

The end-to-end tests start ``python -m digest preview`` as a subprocess in
its own process group and stop the whole group in a ``finally``, so nothing
is left running when a test fails. The browser test drives Debian's
Chromium through Playwright.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from digest.config import Config, NewsletterConfig
from digest.errors import DigestError
from digest.preview import (
    Preview,
    _Ticker,
    bind,
    changes,
    envelope_of,
    has_display,
    preheader_of,
    snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
SEED_TITLES = (
    "Healthcare Diplomacy",
    "Global Leaders Gather for Shanghai 21st Century International Medical Forum",
    "Global Perspective: Recovery and Renewal in Asia",
    "Health specialists from China and the U.S. urge increased cooperation in the medical field",
    "Global Healthcare Collaborations",
)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


# --- the parts, in process -------------------------------------------------------


def test_has_display():
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not has_display({"DISPLAY": ""}, "freebsd13")
    assert has_display({}, "darwin")
    assert has_display({}, "win32")


def test_snapshot_sees_edits_new_and_removed_files_but_not_hidden_ones(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("two")
    config = tmp_path / "digest.toml"  # missing: creating it must count
    before = snapshot([tmp_path, config])
    assert changes(before, snapshot([tmp_path, config])) == []

    (tmp_path / ".a.txt.swp").write_text("editor noise")
    (tmp_path / "a.txt~").write_text("backup")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_text("x")
    assert changes(before, snapshot([tmp_path, config])) == []

    (tmp_path / "a.txt").write_text("one, longer")
    (tmp_path / "sub" / "b.md").unlink()
    (tmp_path / "sub" / "c.html").write_text("<p>three</p>")
    config.write_text("[newsletter]\n")
    changed = changes(before, snapshot([tmp_path, config]))
    assert changed == sorted(
        str(p)
        for p in (
            tmp_path / "a.txt",
            config,
            tmp_path / "sub" / "b.md",
            tmp_path / "sub" / "c.html",
        )
    )


def test_preheader_is_the_first_text_of_the_email_hidden_text_included():
    page = (
        "<html><head><title>Subject here</title><style>p{color:red}</style></head><body>"
        '<div style="display:none">Hidden preheader &amp; more\u200c\u034f&nbsp;\u200c</div>'
        "<h1>Masthead</h1><p>First   paragraph.</p></body></html>"
    )
    assert preheader_of(page) == "Hidden preheader & more Masthead First paragraph."
    assert preheader_of("<p>" + "word " * 100 + "</p>", limit=20) == "word word word word…"


def test_envelope_comes_from_the_eml():
    from digest.message import compose, to_bytes

    eml = to_bytes(
        compose(text="t", html="<p>h</p>", subject="Über – November", sender="News <n@example.org>")
    )
    env = envelope_of(eml, "fallback", "x@example.org")
    assert (env.sender, env.subject, env.date) == ("News", "Über – November", "1 Jan")
    assert envelope_of(None, "Title", "Digest <d@example.org>").sender == "Digest"


HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def write_articles(folder: Path, title: str = "Water for every clinic") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    bodies = (  # two different stories: the same text twice would be merged as one
        "The ministry opened twelve clinics in the north this month. "
        "Each clinic has clean water and a trained nurse. "
        "Doctors say the change will save many lives in the coming winter.\n",
        "A charity drilled forty wells in the south in October. "
        "Every well has a hand pump and a water test kit. "
        "Nurses expect fewer cases of cholera among children this year.\n",
    )
    for i in range(2):
        (folder / f"a{i}.md").write_text(
            f"---\ntitle: {title} {i}\ndate: 2024-11-0{i + 1}\n---\n\n" + bodies[i],
            encoding="utf-8",
        )


def make_preview(tmp_path: Path, load: Callable[[], Config], sources: list[str], **kw) -> Preview:
    logs: list[str] = []
    root = tmp_path / "builds"
    root.mkdir()
    preview = Preview(root, load, sources, load(), log=logs.append, **kw)
    preview.logs = logs  # type: ignore[attr-defined]
    return preview


def test_page_escapes_everything_that_comes_from_the_articles_and_config(tmp_path):
    articles = tmp_path / "articles"
    write_articles(articles, title=HOSTILE)
    config = Config(newsletter=NewsletterConfig(name=HOSTILE, intro=HOSTILE))
    preview = make_preview(tmp_path, lambda: config, [str(articles)])
    assert preview.rebuild()
    page = preview.page()
    # our one script, by URL; nothing from the build becomes markup
    assert page.count("<script") == 1
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    assert re.search(r'<span class="subject">[^<]*&lt;script&gt;', page)  # the subject
    assert re.search(r'<span class="preheader">[^<]*&lt;script&gt;', page)  # the intro
    assert re.search(r'<pre id="text-view">[^<]*&lt;script&gt;', page)  # the text version


def test_a_failed_build_is_shown_and_the_last_good_build_stays(tmp_path):
    articles = tmp_path / "articles"
    write_articles(articles)
    current = {"config": Config()}

    def load() -> Config:
        value = current["config"]
        if isinstance(value, BaseException):
            raise value
        return value

    preview = make_preview(tmp_path, load, [str(articles)])
    assert preview.rebuild()
    good_html = preview.read("digest.html")
    assert good_html and b"Water for every clinic 0" in good_html

    current["config"] = DigestError("digest.toml: invalid TOML <here>", hint="fix the syntax")
    assert not preview.rebuild(" (digest.toml changed)")
    state = preview.state()
    assert state["error"].startswith("error: digest.toml: invalid TOML")
    assert state["build"] == 1 and not state["building"]
    assert preview.read("digest.html") == good_html
    page = preview.page()
    assert "The build failed" in page and "invalid TOML &lt;here&gt;" in page
    assert "last good build" in page
    assert "error: digest.toml: invalid TOML <here>\nhint: fix the syntax" in preview.logs

    # a bug in a stage is shown the same way instead of stopping the server
    current["config"] = replace(Config(), summary=replace(Config().summary, summarizer="nope"))
    assert not preview.rebuild()
    assert "unknown summarizer" in preview.state()["error"]

    # Ctrl-C in a terminal reaches the build's worker processes too; their
    # KeyboardInterrupt comes back to the watcher thread, which must not die
    current["config"] = KeyboardInterrupt()
    assert not preview.rebuild()
    assert preview.state()["error"] == "error: the build was interrupted"

    current["config"] = Config()
    write_articles(articles, title="Fixed title")
    assert preview.rebuild()
    assert preview.state()["error"] is None and preview.state()["build"] == 2
    assert b"Fixed title 0" in (preview.read("digest.html") or b"")
    assert not (preview.root / "build-1").exists()  # older builds are removed


def test_only_the_files_of_the_build_are_readable(tmp_path):
    articles = tmp_path / "articles"
    write_articles(articles)
    preview = make_preview(tmp_path, Config, [str(articles)])
    assert preview.read("digest.html") is None  # nothing built yet
    assert preview.rebuild()
    folder = preview.root / "build-1"
    (folder / "extra.txt").write_text("not part of the build")
    for name in ("extra.txt", "../build-1/digest.html", "/etc/passwd", "", ".", "build-1"):
        assert preview.read(name) is None, name
    (folder / "digest.json").unlink()
    (folder / "digest.json").symlink_to(ROOT / "pyproject.toml")
    assert preview.read("digest.json") is None
    assert preview.read("digest.txt")


def test_a_long_build_prints_progress(tmp_path):
    articles = tmp_path / "articles"
    write_articles(articles)

    def slow_config() -> Config:
        time.sleep(0.5)
        return Config()

    preview = make_preview(tmp_path, Config, [str(articles)], tick=0.1)
    preview.load_config = slow_config
    assert preview.rebuild()
    ticks = [line for line in preview.logs if "still building" in line]
    assert len(ticks) >= 3, preview.logs
    assert re.fullmatch(r"\S+ built 2 articles in \d+ sections? in [\d.]+ s", preview.logs[-1])


def test_progress_lines_count_the_summarized_articles():
    logs: list[str] = []
    with _Ticker(logs.append, 0.05, time.monotonic()) as ticker:
        time.sleep(0.12)
        ticker.progress(3, 10)
        time.sleep(0.12)
    assert logs[0].startswith("  still building… ") and logs[0].endswith(" s")
    assert logs[-1].endswith(" s (3/10 articles summarized)")


def test_the_page_shows_what_digest_check_finds_once_and_escaped(tmp_path):
    articles = tmp_path / "articles"
    write_articles(articles)
    nl = replace(NewsletterConfig(), unsubscribe_url='javascript:alert("<x>")')
    config = Config(newsletter=nl)
    preview = make_preview(tmp_path, lambda: config, [str(articles)])
    assert preview.rebuild()
    page = preview.page()
    findings = page.split('<section id="findings">', 1)[1].split("</section>", 1)[0]
    assert re.search(r"digest check: [1-9]\d* errors?, \d+ warnings?", findings)
    assert (
        '<li class="error">error: config-links: newsletter.unsubscribe_url is not https:'
        in findings
    )
    assert "&lt;x&gt;" in findings and "<x>" not in page
    assert "config-links" not in page.replace(findings, "")  # shown once, as a finding
    assert any(line.startswith("check: error: config-links: ") for line in preview.logs)


def test_a_port_in_use_moves_to_the_next_free_one(tmp_path):
    logs: list[str] = []
    preview = Preview(tmp_path, Config, [], Config(), log=logs.append)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = bind(preview, port, logs.append)
        try:
            assert server.server_address[0] == "127.0.0.1"
            assert server.server_address[1] != port
            assert logs == [f"port {port} is in use; using {server.server_address[1]} instead"]
        finally:
            server.server_close()


# --- the real server, as a subprocess ---------------------------------------------


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    url: str
    port: int
    out: Path
    err: Path

    def log(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def build_folder(self) -> Path:
        match = re.search(r"building into (\S+)", self.log())
        assert match, self.log()
        return Path(match.group(1))

    def get(self, path: str, host: str | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Host": host} if host else {}
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def state(self) -> dict[str, object]:
        status, body = self.get("/__preview/state")
        assert status == 200
        return json.loads(body)  # type: ignore[no-any-return]

    def wait_state(self, what: str, check: Callable[[dict[str, object]], bool]) -> dict:
        def ready() -> dict[str, object] | None:
            state = self.state()
            return state if check(state) and not state["building"] else None

        return wait_for(ready, 20, f"{what}; log:\n{self.log()}")  # type: ignore[return-value]


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process and everything it started, politely, then not."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group, if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@contextlib.contextmanager
def run_preview(tmp_path: Path, *args: str) -> Iterator[Running]:
    out, err = tmp_path / "preview.out", tmp_path / "preview.err"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    with out.open("wb") as out_fh, err.open("wb") as err_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "digest", "preview", *args, "--no-open"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out_fh,
            stderr=err_fh,
            start_new_session=True,  # its own process group, stopped as a whole
        )
        try:

            def started() -> re.Match[str] | None:
                if proc.poll() is not None:
                    raise AssertionError(f"preview exited {proc.returncode}: {err.read_text()}")
                return re.search(r"http://127\.0\.0\.1:(\d+)/", out.read_text())

            match = wait_for(started, 30, "the preview URL")
            assert isinstance(match, re.Match)
            running = Running(proc, match.group(0), int(match.group(1)), out, err)
            running.wait_state("the first build", lambda s: s["build"] == 1)
            yield running
        finally:
            stop_group(proc)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of seeds/ and digest.toml to edit."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copy(ROOT / "digest.toml", tmp_path / "digest.toml")
    return tmp_path


def test_live_preview_in_chromium(project, browser):
    from playwright.sync_api import expect

    config = tomllib.loads((project / "digest.toml").read_text(encoding="utf-8"))
    with run_preview(project, "seeds", "-c", "digest.toml", "--port", "0") as server:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(server.url)
        email = page.frame_locator("#email")
        for title in SEED_TITLES:
            expect(email.get_by_text(title, exact=True).first).to_be_visible()

        # the inbox line: subject and preheader
        subject = page.locator("#inbox .subject")
        expect(subject).to_have_text(re.compile("^" + re.escape(config["newsletter"]["name"])))
        preheader = page.locator("#inbox .preheader")
        # the email's hidden preheader, written from the lead story (#4)
        lead = page.frame_locator("#email").locator("body > div").first
        lead_text = " ".join((lead.text_content() or "").split())
        assert len(lead_text) >= 60
        expect(preheader).to_contain_text(lead_text[:60])
        expect(page.locator("#findings")).to_contain_text("digest check: 0 errors")

        # change a title on disk: the page follows by itself, without reloading
        page.evaluate("window.notReloaded = true")
        old = SEED_TITLES[0]
        new = "Healthcare Diplomacy, Edited While Previewing"
        seed = next(p for p in (project / "seeds").iterdir() if old in p.read_text().splitlines())
        seed.write_text(
            "\n".join(new if line == old else line for line in seed.read_text().splitlines()) + "\n"
        )
        written = time.monotonic()
        server.wait_state("the rebuild", lambda s: s["build"] == 2)
        built = time.monotonic()
        expect(email.get_by_text(new, exact=True).first).to_be_visible(timeout=2000)
        shown = time.monotonic()
        expect(email.get_by_text(old, exact=True)).to_have_count(0)
        assert page.evaluate("window.notReloaded") is True
        print(
            f"edit -> rebuilt {built - written:.2f} s; rebuilt -> on the page {shown - built:.2f} s"
        )

        # mobile width
        frame = page.locator("#email")
        assert frame.bounding_box()["width"] >= 600
        page.get_by_role("button", name="Mobile (375 px)").click()
        expect(page.get_by_role("button", name="Mobile (375 px)")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert frame.bounding_box()["width"] == 375
        inner = frame.element_handle().content_frame()
        assert inner.evaluate("document.documentElement.clientWidth") == 375
        expect(email.get_by_text(new, exact=True).first).to_be_visible()

        # dark mode: the email is shown as a client in dark mode shows it
        page.get_by_role("button", name="Dark mode").click()
        expect(page.locator("body")).to_have_attribute("data-dark", "true")
        # the built-in email has its own prefers-color-scheme: dark rules (#4),
        # which the preview applies instead of inverting colours
        # (the frame restyles after the click: poll, a loaded machine can lag)
        deadline = time.monotonic() + 5
        while True:
            background = inner.evaluate("getComputedStyle(document.body).backgroundColor")
            channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
            if max(channels) < 60 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert max(channels) < 60, background

        # the text version
        page.get_by_role("button", name="Text").click()
        expect(page.locator("#email")).to_be_hidden()
        text_view = page.locator("#text-view")
        expect(text_view).to_be_visible()
        expect(text_view).to_contain_text(new)
        expect(text_view).to_contain_text(config["newsletter"]["name"].upper())
        assert page.evaluate("window.notReloaded") is True


def test_rebuilds_on_template_and_config_changes_and_survives_errors(project):
    templates = project / "templates"
    templates.mkdir()
    override = templates / "digest.txt.j2"
    override.write_text('{% extends "default:digest.txt.j2" %}\n', encoding="utf-8")
    toml = project / "digest.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[templates]\ndir = "templates"\n', encoding="utf-8"
    )
    with run_preview(project, "-c", "digest.toml", "--port", "0") as server:
        # a template
        override.write_text(
            'EDITED TEMPLATE\n{% include "default:digest.txt.j2" %}', encoding="utf-8"
        )
        server.wait_state("the template rebuild", lambda s: s["build"] == 2)
        assert server.get("/digest.txt")[1].startswith(b"EDITED TEMPLATE\n")

        # the config
        toml.write_text(
            toml.read_text().replace(
                'name = "International Health Digest"', 'name = "Renamed <Digest>"'
            )
        )
        server.wait_state("the config rebuild", lambda s: s["build"] == 3)
        status, page = server.get("/")
        assert status == 200 and b"Renamed &lt;Digest&gt;" in page

        # a broken template: an error on the page and in the terminal; the last
        # good build is still served
        override.write_text("{% if %}", encoding="utf-8")
        state = server.wait_state("the error", lambda s: bool(s["error"]))
        assert "template syntax error" in str(state["error"]) and state["build"] == 3
        assert "template syntax error" in server.log()
        page = server.get("/")[1].decode()
        assert "The build failed" in page and "Renamed &lt;Digest&gt;" in page
        assert server.get("/digest.txt")[1].startswith(b"EDITED TEMPLATE\n")

        # fixed: the error goes away
        override.write_text("FIXED\n", encoding="utf-8")
        state = server.wait_state("the fix", lambda s: s["build"] == 4)
        assert state["error"] is None
        assert server.get("/digest.txt")[1] == b"FIXED\n"
        assert server.proc.poll() is None


TRAVERSALS = (
    "/../pyproject.toml",
    "/../../pyproject.toml",
    "/%2e%2e/pyproject.toml",
    "/%2e%2e%2fpyproject.toml",
    "/%2E%2E%2Fpyproject.toml",
    "/..%2fpyproject.toml",
    "/..%2Fpyproject.toml",
    "/%2F..%2Fpyproject.toml",
    "/..\\pyproject.toml",
    "/..%5cpyproject.toml",
    "/%5c..%5cpyproject.toml",
    "/digest.html/../../pyproject.toml",
    "/./pyproject.toml",
    "/pyproject.toml",
    "//etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/digest.txt%00",
    "/%64igest.txt",
    "/DIGEST.TXT",
    "/build-1/digest.txt",
)


def test_serves_nothing_outside_the_build_and_only_on_loopback(project):
    with run_preview(project, "seeds", "--port", "0") as server:
        # the outputs themselves are served, so the 404s below mean something
        status, body = server.get("/digest.html")
        assert status == 200 and b"Healthcare Diplomacy" in body
        assert server.get("/digest.txt")[0] == 200

        paths = [*TRAVERSALS, str(ROOT / "pyproject.toml"), "/" + str(ROOT / "pyproject.toml")]
        for path in paths:
            status, body = server.get(path)
            assert status == 404, path
            assert b"[build-system]" not in body and b"root:" not in body

        # raw requests, as no client library would send them
        for target in ("/..\\..\\pyproject.toml", "http://127.0.0.1/../pyproject.toml", "*"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(f"GET {target} HTTP/1.0\r\n\r\n".encode())
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            assert answer.split(b"\r\n", 1)[0].split()[1] == b"404", target

        # symlinks in the build folder lead nowhere
        build = next(server.build_folder().glob("build-*"))
        (build / "evil.txt").symlink_to(ROOT / "pyproject.toml")
        assert server.get("/evil.txt")[0] == 404
        (build / "digest.json").unlink()
        (build / "digest.json").symlink_to(ROOT / "pyproject.toml")
        assert server.get("/digest.json")[0] == 404

        # another Host (DNS rebinding) is refused
        assert server.get("/", host=f"evil.example:{server.port}")[0] == 403
        assert server.get("/", host=f"localhost:{server.port}")[0] == 200

        # it listens on 127.0.0.1 only
        assert listening_addresses(server.port) == {"127.0.0.1"}
        for address in non_loopback_addresses():
            with socket.socket() as sock:
                sock.settimeout(2)
                assert sock.connect_ex((address, server.port)) != 0, address


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (Linux /proc)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    if len(address) == 8:
                        found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                    else:
                        found.add(address)
    return found


def non_loopback_addresses() -> set[str]:
    found = set()
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.254.254.254", 9))  # no packet is sent; picks the outgoing address
        found.add(s.getsockname()[0])
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    return {a for a in found if not a.startswith("127.")}


def test_ctrl_c_stops_cleanly_and_removes_the_build_folder(project):
    with run_preview(project, "seeds", "--port", "0") as server:
        folder = server.build_folder()
        assert folder.is_dir()
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=15) == 0
        log = server.log()
        assert "Traceback" not in log and "preview stopped" in log
        assert not folder.exists()
        assert not (project / "out").exists()  # the preview never writes out/


def test_the_preview_numbers_the_issue_from_the_real_archive(tmp_path):
    from digest.archive import Archive, IssueRecord, to_json

    articles = tmp_path / "articles"
    write_articles(articles)  # dated November 2024
    out = tmp_path / "out"
    out.mkdir()
    known = Archive((IssueRecord("2024-09", 6), IssueRecord("2024-10", 7)))
    (out / "archive.json").write_text(to_json(known), encoding="utf-8")
    config = Config().with_overrides({"build.out": str(out)})
    preview = make_preview(tmp_path, lambda: config, [str(articles)])
    assert preview.rebuild()
    built = json.loads(preview.read("digest.json"))
    assert built["issue"] == 8
    assert (out / "archive.json").read_text(encoding="utf-8") == to_json(known)  # untouched
