"""`digest check`: every rule passes on a good build and fires on a bad one."""

from __future__ import annotations

import email
import re
import socket
from email import policy

import pytest
from click.testing import CliRunner

from digest.check import (
    Finding,
    adjust_for_contrast,
    check_eml,
    check_files,
    check_html,
    check_text,
    contrast,
    load_caniemail,
    matches,
    parse_html,
)
from digest.cli import cli
from digest.config import Config, NewsletterConfig
from digest.model import Digest, Section
from digest.render import render
from tests.helpers import article


@pytest.fixture(scope="module")
def good():
    a = article(
        "Hospitals agree",
        summary=(
            "Researchers in three countries agreed on Tuesday to share hospital data.",
            "The agreement covers twelve hospitals and should shorten diagnosis by months.",
        ),
        url="https://e.org/a",
        publisher="Example News",
    )
    d = Digest(
        title="News – May 2024",
        period="May 2024",
        intro="What happened.",
        sections=(Section("Health", (a,)),),
    )
    nl = NewsletterConfig(unsubscribe_url="https://example.org/u", archive_url="https://e.org/")
    return dict(render(d, nl).files)


def errors(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings if f.level == "error"]


def warnings(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings if f.level == "warning"]


def html_of(good) -> str:
    return good["digest.html"].decode()


def test_a_good_build_has_no_findings(good):
    cfg = Config(newsletter=NewsletterConfig(unsubscribe_url="https://example.org/u"))
    assert check_files(good, cfg) == []


def test_seeds_build_checks_clean(root, tmp_path, monkeypatch):
    monkeypatch.chdir(root)
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(cli, ["build", "seeds", "-o", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["check", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
    assert "error:" not in result.output


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda h: h.replace('lang="en"', 'lang="und"', 1), "lang"),
        (lambda h: re.sub(r"<title>.*?</title>", "<title></title>", h), "title"),
        (lambda h: h.replace("</body>", "<!-- TODO remove --></body>"), "comments"),
        (lambda h: h.replace("</body>", "<script>alert(1)</script></body>"), "forbidden-tag"),
        (
            lambda h: h.replace("</body>", "<iframe src='https://x.org'></iframe></body>"),
            "forbidden-tag",
        ),
        (lambda h: h.replace("</body>", '<img src="https://e.org/x.png"></body>'), "img-alt"),
        (lambda h: h.replace('href="https://e.org/a"', 'href="/a"', 1), "links"),
        (lambda h: h.replace('href="https://e.org/a"', 'href="javascript:x()"', 1), "links"),
        (
            lambda h: h.replace(
                "</head>", '<link rel="stylesheet" href="https://fonts.googleapis.com/css"></head>'
            ),
            "external-css",
        ),
        (
            lambda h: h.replace("</style>", "@import url(https://x.org/a.css);</style>", 1),
            "web-fonts",
        ),
        (lambda h: h.replace("<h3", "<h4", 1).replace("</h3>", "</h4>", 1), "headings"),
        (lambda h: h.replace('role="presentation"', ""), "tables"),
        (lambda h: h.replace('name="color-scheme"', 'name="x"'), "dark-mode"),
        (lambda h: h.replace('name="viewport"', 'name="x"'), "responsive"),
        (lambda h: h.replace("max-width:600px", "width:800px", 1), "width"),
        (lambda h: h.replace('<div style="display:none;', '<div style="', 1), "font-size"),
        (lambda h: re.sub(r"<div style=\"display:none;[^>]*>", "<div>", h, count=1), "preheader"),
        (lambda h: h.replace("font-size:15px;", "font-size:11px;", 1), "font-size"),
        (lambda h: h.replace("color:#57606a", "color:#cccccc"), "contrast"),
        (lambda h: h.replace("color: #e6edf3", "color: #20262d"), "contrast"),  # dark scheme
        (lambda h: h + "<!--" + "x" * 110_000 + "-->", "size"),
    ],
)
def test_each_html_rule_fires(good, change, rule):
    html = change(html_of(good))
    assert html != html_of(good), "the test's change did not apply"
    assert rule in errors(check_html(html)), check_html(html)


def test_generic_link_text_and_http_links_are_warnings(good):
    html = html_of(good).replace("Read “Hospitals agree” on Example News", "Read more", 1)
    html = html.replace('href="https://e.org/a"', 'href="http://e.org/a"', 1)
    found = check_html(html)
    assert "link-text" in warnings(found) and "links" in warnings(found)
    assert not errors(found)


def test_merge_tags_are_accepted_links(good):
    for tag in (
        "*|UNSUB|*",
        "{{unsubscribe}}",
        "%unsubscribe_url%",
        "<%asm_group_unsubscribe_raw_url%>",
    ):
        html = html_of(good).replace('href="https://example.org/u"', f'href="{tag}"')
        assert "links" not in errors(check_html(html)), tag


def test_text_rules(good):
    html = html_of(good)
    text = good["digest.txt"].decode()
    assert check_text(text, html) == []
    assert "text-width" in errors(check_text(text + "x " * 50 + "\n", html))
    assert check_text(text + "https://e.org/" + "y" * 100 + "\n", html) == []
    assert "text-markup" in errors(check_text(text + "<b>bold</b>\n", html))
    assert "text-markup" in errors(check_text(text + "Tom &amp; Jerry\n", html))
    no_unsub = "\n".join(line for line in text.splitlines() if "nsubscribe" not in line)
    assert "text-unsubscribe" in errors(check_text(no_unsub, html))
    assert "text-consistency" in errors(check_text(text.replace("Hospitals agree", "Other"), html))
    assert "text-consistency" in errors(
        check_text(text, html.replace("</ul>", "<li>Only in the HTML</li></ul>", 1))
    )
    assert "text-links" in errors(check_text(text.replace("[1] https", "[9] https"), html))


def test_eml_rules(good):
    eml = good["digest.eml"]
    assert check_eml(eml, good["digest.html"], good["digest.txt"], True) == []
    assert "eml-stale" in errors(check_eml(eml, b"<p>other</p>", None))
    no_post = eml.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b"")
    assert "list-unsubscribe" in errors(check_eml(no_post, None, None, True))
    injected = eml.replace(b"Subject:", b"Bcc: x@example.com\r\nSubject:", 1)
    assert "eml-headers" in errors(check_eml(injected))
    long_line = eml.replace(b"\r\n\r\n", b"\r\nX-Long: " + b"a" * 1000 + b"\r\n\r\n", 1)
    assert "eml-line-length" in errors(check_eml(long_line))
    raw_utf8 = eml.replace(b"Subject: ", "Subject: Ünï ".encode(), 1)
    assert "eml-encoding" in errors(check_eml(raw_utf8))
    msg = email.message_from_bytes(eml, policy=policy.default)
    mid = msg["Message-ID"].encode()
    local = mid.split(b"@")[0]
    on_host = eml.replace(mid, local + b"@" + socket.gethostname().encode() + b">", 1)
    assert on_host != eml
    assert "eml-message-id" in errors(check_eml(on_host))
    no_unsub = eml.replace(b"List-Unsubscribe:", b"X-Was:", 1)
    assert "list-unsubscribe" in warnings(check_eml(no_unsub.replace(b"X-Was", b"List-Id2")))


def test_selector_engine():
    tree = parse_html(
        '<div class="a"><table><tr><td class="b"><p id="x">t</p></td></tr></table></div>'
    )
    p = next(n for n in tree.root.iter() if n.tag == "p")
    td = p.parent
    assert matches(p, ".a p") and matches(p, "td.b > p") and matches(p, "#x")
    assert not matches(p, ".a > p") and not matches(p, "p:hover")
    assert matches(td, "div td") and not matches(td, "span td")


def test_contrast_adjustment_reaches_the_ratio():
    for accent in ("#ffd400", "#7fd1ff", "#0b5cab", "#ff0000"):
        assert contrast(adjust_for_contrast(accent, "#ffffff"), "#ffffff") >= 4.5
        assert contrast(adjust_for_contrast(accent, "#161b22"), "#161b22") >= 4.5


def test_client_support_warns_about_features_gmail_or_outlook_drop(good):
    data = load_caniemail()
    assert data and "features" in data
    html = html_of(good).replace(
        '<h2 class="dk-link" style="', '<h2 class="dk-link" style="position:absolute;', 1
    )
    assert html != html_of(good)
    found = check_html(html)
    assert any(f.rule == "client-support" and "position" in f.detail for f in found)
    assert not errors(found)


def test_check_command_exits_1_on_errors(tmp_path, good):
    for name, data in good.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "digest.html").write_bytes(
        good["digest.html"].replace(b'lang="en"', b'lang="und"', 1)
    )
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert lines and lines[0].startswith("error: lang: ")


def test_check_command_on_a_missing_folder_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output


def test_build_prints_check_warnings(tmp_path, root, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(
        "A title of the story\n\nFirst sentence of the body here. Second sentence of it here.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["build", "a.txt", "-o", "out"])
    assert result.exit_code == 0, result.output
    assert "warning: list-unsubscribe:" in result.output
