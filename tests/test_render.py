from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from digest.config import NewsletterConfig
from digest.errors import DigestError
from digest.model import Digest, Section
from digest.render import render, wrap
from tests.helpers import article


def make_digest(*articles):
    return Digest(
        title="News – May 2024",
        period="May 2024",
        intro="What happened.",
        sections=(Section("Health", tuple(articles)),),
    )


def visible_text(html: str) -> str:
    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.out: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("style", "script", "title"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("style", "script", "title"):
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                self.out.append(data)

    p = P()
    p.feed(html)
    return " ".join(" ".join(p.out).split())


def test_html_and_text_show_the_same_articles():
    a = article("First story", summary=("Summary one.",), url="https://example.org/1")
    b = article("Second story", summary=("Summary two.",))
    r = render(make_digest(a, b), NewsletterConfig(name="My News"))
    html = r.get("digest.html").decode()
    text = r.get("digest.txt").decode()
    for s in ("First story", "Second story", "Summary one.", "Summary two.", "My News", "May 2024"):
        assert s in visible_text(html)
        assert s in text
    assert 'href="https://example.org/1"' in html
    assert "[1] https://example.org/1" in text
    assert "fonts.googleapis" not in html


def test_untrusted_text_stays_text():
    evil = "<script>alert(1)</script> {{ 7*7 }} {% raw %} </mj-text> a < b &amp; c"
    a = article(evil, summary=(evil,))
    r = render(make_digest(a), NewsletterConfig())
    html = r.get("digest.html").decode()
    text = r.get("digest.txt").decode()
    assert "<script>" not in html
    assert "49" not in visible_text(html) and "49" not in text
    assert evil in visible_text(html)
    assert evil in text


def test_text_lines_are_at_most_78_columns():
    long = "word " * 200
    a = article("T " * 60, summary=(long,), url="https://example.org/" + "x" * 120)
    text = render(make_digest(a), NewsletterConfig()).get("digest.txt").decode()
    for line in text.splitlines():
        assert len(line) <= 78 or re.search(r"https?://\S{40,}", line)


def test_wrap_never_breaks_urls():
    url = "https://example.org/" + "a" * 100
    assert url in wrap(f"see {url} now", 30)


def test_override_extends_the_builtin_template(tmp_path):
    (tmp_path / "digest.txt.j2").write_text(
        '{% include "default:digest.txt.j2" %}CUSTOM FOOTER\n', encoding="utf-8"
    )
    r = render(make_digest(article("A story", summary=("S.",))), NewsletterConfig(), str(tmp_path))
    text = r.get("digest.txt").decode()
    assert "A story" in text and text.rstrip().endswith("CUSTOM FOOTER")


def test_undefined_variable_names_template_and_line(tmp_path):
    (tmp_path / "digest.txt.j2").write_text("line one\n{{ digest.nope }}\n", encoding="utf-8")
    with pytest.raises(DigestError) as err:
        render(make_digest(article("A", summary=("S.",))), NewsletterConfig(), str(tmp_path))
    assert "digest.txt.j2:2" in err.value.message and "nope" in err.value.message
