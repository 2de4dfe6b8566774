"""HTTP against a real server on 127.0.0.1: answers, errors, stalls, limits."""

from __future__ import annotations

import socket
import time

import pytest

from digest.errors import DigestError
from digest.fetch import USER_AGENT, get, is_url
from tests.conftest import stall, trickle


def test_is_url():
    assert is_url("https://example.org/feed.xml")
    assert is_url("HTTP://example.org")
    assert not is_url("seeds/a.txt")
    assert not is_url("file:///etc/passwd")
    assert not is_url("C:\\feeds\\a.xml")


def test_get_returns_body_type_charset_and_sends_a_user_agent(http_server):
    http_server.routes["/a"] = (
        200,
        {"Content-Type": "text/html; charset=ISO-8859-1"},
        "<p>café</p>".encode("latin-1"),
    )
    resp = get(http_server.url("/a"), timeout=5)
    assert resp.data == "<p>café</p>".encode("latin-1")
    assert (resp.content_type, resp.charset) == ("text/html", "iso-8859-1")
    headers = http_server.requests[0][1]
    assert headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("digest/")
    get(http_server.url("/a"), timeout=5, user_agent="MyBot/1.0")
    assert http_server.requests[1][1]["User-Agent"] == "MyBot/1.0"


def test_http_500_is_one_clear_error(http_server):
    http_server.routes["/feed"] = (500, {"Content-Type": "text/plain"}, b"oops")
    with pytest.raises(DigestError) as err:
        get(http_server.url("/feed"), timeout=5)
    assert err.value.message == f"{http_server.url('/feed')}: HTTP 500 Internal Server Error"
    assert "try again later" in (err.value.hint or "")


def test_404_says_to_check_the_address(http_server):
    with pytest.raises(DigestError) as err:
        get(http_server.url("/missing"), timeout=5)
    assert "HTTP 404" in err.value.message and "check the address" in (err.value.hint or "")


def test_a_server_that_never_answers_times_out(http_server):
    http_server.routes["/stall"] = stall
    start = time.monotonic()
    with pytest.raises(DigestError) as err:
        get(http_server.url("/stall"), timeout=0.5)
    assert time.monotonic() - start < 3
    assert "no response within 0.5 s (the server stalled)" in err.value.message
    assert "build.timeout" in (err.value.hint or "")


def test_a_server_that_trickles_is_stopped_at_the_deadline(http_server):
    http_server.routes["/slow"] = trickle
    start = time.monotonic()
    with pytest.raises(DigestError) as err:
        get(http_server.url("/slow"), timeout=0.6)
    assert time.monotonic() - start < 3
    assert "stall" in err.value.message


def test_refused_connection(http_server):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DigestError) as err:
        get(f"http://127.0.0.1:{port}/feed", timeout=2)
    assert "connection refused" in err.value.message


def test_unknown_host_says_offline_or_no_such_host():
    # .invalid never resolves (RFC 6761), with or without a network
    with pytest.raises(DigestError) as err:
        get("http://no-such-host.invalid/feed.xml", timeout=2)
    assert "cannot resolve no-such-host.invalid (offline, or no such host)" in err.value.message


def test_too_large_is_refused(http_server):
    http_server.routes["/big"] = (200, {"Content-Type": "text/plain"}, b"x" * 5000)
    with pytest.raises(DigestError) as err:
        get(http_server.url("/big"), timeout=5, max_bytes=1000)
    assert "larger than 1000 bytes" in err.value.message


def test_redirect_to_a_file_is_refused(http_server):
    http_server.routes["/r"] = (302, {"Location": "file:///etc/passwd"}, b"")
    with pytest.raises(DigestError) as err:
        get(http_server.url("/r"), timeout=5)
    assert "file:///etc/passwd" in err.value.message and "not allowed" in err.value.message


def test_redirect_within_the_web_is_followed(http_server):
    http_server.routes["/old"] = (301, {"Location": http_server.url("/new")}, b"")
    http_server.routes["/new"] = (200, {"Content-Type": "text/plain"}, b"moved here")
    resp = get(http_server.url("/old"), timeout=5)
    assert resp.data == b"moved here" and resp.url == http_server.url("/new")


def test_only_web_addresses():
    with pytest.raises(DigestError):
        get("file:///etc/passwd")


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("127.0.0.1", False),
        ("localhost", False),
        ("10.1.2.3", False),
        ("192.168.0.9", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("::1", False),
        ("fd00::1", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_public_hosts_are_told_from_private_ones(host, public):
    from digest.fetch import is_public_host

    assert is_public_host(host) is public


def test_links_over_https_reach_the_feeds_own_host_with_its_certificate_checked(
    http_server, tmp_path, monkeypatch
):
    """Following a feed's links, HTTPS connects through digest's address
    check and still verifies the certificate for the host name."""
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    http_server.routes["/page"] = (200, {"Content-Type": "text/html"}, b"<p>inside</p>")
    http_server.socket = context.wrap_socket(http_server.socket, server_side=True)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    port = http_server.server_port
    url = f"https://localhost:{port}/page"
    resp = get(url, timeout=5, origin=f"https://localhost:{port}/feed.xml")
    assert resp.data == b"<p>inside</p>"
    # the same private host, linked from elsewhere: refused before connecting
    with pytest.raises(DigestError, match="localhost is not a public address"):
        get(url, timeout=5, origin="https://feeds.example.org/feed.xml")
    # the certificate is for "localhost": reached as 127.0.0.1, it is refused
    with pytest.raises(DigestError, match="certificate"):
        get(f"https://127.0.0.1:{port}/page", timeout=5, origin=f"https://127.0.0.1:{port}/f")
