from __future__ import annotations

import email
from email import policy

import pytest

from digest.errors import DigestError
from digest.message import compose, header_value, to_bytes


def test_multipart_alternative_text_first_html_last():
    raw = to_bytes(
        compose(
            text="Hello ünïcode\n",
            html="<p>Hello</p>",
            subject="Digest – May",
            sender="News <n@example.org>",
        )
    )
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in msg.iter_parts())
    assert msg["Subject"] == "Digest – May"
    assert msg["Message-ID"].endswith("@example.org>")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_crlf_in_subject_cannot_inject_a_header():
    raw = to_bytes(
        compose(text="t", html="h", subject="Hi\r\nBcc: victim@example.com", sender="n@example.org")
    )
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hi Bcc: victim@example.com"


def test_header_value_strips_controls():
    assert header_value("a\nb\x00c\u2028d") == "a b c d"


def test_bad_sender_is_an_error():
    with pytest.raises(DigestError):
        compose(text="t", html="h", subject="s", sender="not an address")


# --- the message of a rendered digest (#4) ------------------------------------

import socket  # noqa: E402
from dataclasses import replace  # noqa: E402

from digest.config import EmailConfig, NewsletterConfig  # noqa: E402
from digest.model import Digest, Section  # noqa: E402
from digest.render import render  # noqa: E402
from tests.helpers import article  # noqa: E402


def rendered_message(title="Story", newsletter=None, email_config=None, digest_title=None):
    a = article(title, summary=("A sentence of the summary.",), url="https://e.org/a")
    d = Digest(
        title=digest_title or "Ünïcode News – May 2024",
        period="May 2024",
        intro="Intro.",
        sections=(Section("Health", (a,)),),
    )
    nl = newsletter or NewsletterConfig(
        name="Ünïcode News",
        sender="Ünïcode News <news@example.org>",
        unsubscribe_url="https://example.org/unsub?u=*|ID|*&list=7",
    )
    r = render(d, nl, email=email_config or EmailConfig(domain="lists.example.org"))
    raw = r.get("digest.eml")
    return raw, email.message_from_bytes(raw, policy=policy.default), r


def test_rendered_message_structure_and_headers():
    raw, msg, r = rendered_message()
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == r.get("digest.txt").decode()
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == r.get("digest.html").decode()
    for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
        assert msg[name], name
    assert msg["To"] == "Subscribers <subscribers@example.invalid>"
    assert msg["Subject"] == "Ünïcode News – May 2024"
    assert msg["Message-ID"].endswith("@lists.example.org>")
    host = socket.gethostname()
    assert host not in msg["Message-ID"]
    assert msg["List-Id"] == "Ünïcode News <unicode-news.lists.example.org>"
    assert msg["List-Unsubscribe"] == "<https://example.org/unsub?u=*|ID|*&list=7>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"Subject: =?utf-8?" in head  # RFC 2047
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_mailto_unsubscribe_and_configured_recipient():
    nl = NewsletterConfig(sender="n@example.org")
    _, msg, _ = rendered_message(
        newsletter=nl,
        email_config=EmailConfig(
            to="Ana <ana@example.net>", unsubscribe_mailto="leave@example.org"
        ),
    )
    assert msg["To"] == "Ana <ana@example.net>"
    assert msg["List-Unsubscribe"] == "<mailto:leave@example.org>"
    assert msg["List-Unsubscribe-Post"] is None  # one-click needs https
    assert msg["Message-ID"].endswith("@example.org>")


def test_no_unsubscribe_configured_means_no_list_unsubscribe():
    _, msg, _ = rendered_message(newsletter=NewsletterConfig())
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_long_unsubscribe_url_stays_one_unencoded_line():
    url = "https://example.org/u?token=" + "a" * 800
    nl = NewsletterConfig(unsubscribe_url=url)
    raw, msg, _ = rendered_message(
        newsletter=nl, email_config=EmailConfig(unsubscribe_mailto="mailto:x@example.org")
    )
    assert msg["List-Unsubscribe"] == f"<{url}>, <mailto:x@example.org>"
    assert b"=?utf-8?" not in raw.split(b"List-Unsubscribe:", 1)[1].split(b"\r\nList-Unsub")[0]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_article_title_with_crlf_cannot_split_the_subject():
    title = "Big news\r\nBcc: victim@example.com\r\n\r\n<b>body</b>"
    _raw, msg, _ = rendered_message(digest_title=title, title=title)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Big news Bcc: victim@example.com <b>body</b>"
    assert msg.get_content_type() == "multipart/alternative"


def test_config_values_with_crlf_cannot_inject_headers():
    nl = replace(
        NewsletterConfig(),
        name="News\r\nBcc: a@example.com",
        sender="News\r\nCc: b@example.com <n@example.org>",
        unsubscribe_url="https://example.org/u\r\nBcc: c@example.com",
    )
    email_config = EmailConfig(list_id="x\nBcc: d@example.com", to="T\r\n <t@example.org>")
    raw, msg, _ = rendered_message(newsletter=nl, email_config=email_config)
    assert msg["Bcc"] is None and msg["Cc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc" not in head and b"\r\nCc" not in head


def test_bad_domain_is_an_error():
    with pytest.raises(DigestError, match=r"email\.domain"):
        rendered_message(email_config=EmailConfig(domain="not a domain"))
