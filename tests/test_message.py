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
