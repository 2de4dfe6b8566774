"""HTTP for the load stage: one GET with a timeout, a user agent and a size limit.

Only ``load`` calls this (feeds and pages given as URLs, ``--fetch-full``).
Every way a request can fail (offline, unknown host, refused, stalled, HTTP
errors, too large, a redirect to a non-web scheme) becomes one
``DigestError`` naming the URL, so the caller can skip that source with a
warning and build the others.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any
from urllib.parse import urlsplit

from . import __version__
from .errors import DigestError

USER_AGENT = f"digest/{__version__} (newsletter builder)"
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    content_type: str  # "text/html", lower case, no parameters
    charset: str | None
    data: bytes


def is_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in SCHEMES and "://" in source


def is_public_host(host: str) -> bool:
    """Are all the addresses ``host`` has on the public internet (not
    loopback, private, link-local, shared or reserved)? A name that does not
    resolve counts as public: the request then fails with its own message."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return True
    return all(_is_global(str(i[4][0])) for i in infos)


def check_link(url: str, origin: str) -> None:
    """Raise unless ``url``, a link found in ``origin`` (a feed's URL or file),
    may be followed: to a public address, or to the host ``origin`` was
    served from. A feed is someone else's text; it must not make digest read
    the private network (an intranet page, a cloud metadata address) into a
    newsletter."""
    host = (urlsplit(url).hostname or "").lower()
    own = (urlsplit(origin).hostname or "").lower() if is_url(origin) else ""
    if host and host != own and not is_public_host(host):
        raise _not_followed(url, host)


def _not_followed(url: str, host: str) -> DigestError:
    return DigestError(
        f"{url}: {host} is not a public address, and the feed does not come from it",
        hint="digest follows a feed's links only to public addresses or the feed's own host",
    )


class _WebOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only: a page must not send us to file: or
    ftp:; with an ``origin``, only where :func:`check_link` allows."""

    def __init__(self, origin: str | None = None) -> None:
        super().__init__()
        self.origin = origin

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        try:
            if urlsplit(newurl).scheme.lower() not in SCHEMES:
                raise DigestError(
                    f"{req.full_url}: redirected to {newurl!r}, which is not a web address",
                    hint="use the final http(s) address of the feed or page",
                )
            if self.origin is not None:
                check_link(newurl, self.origin)
        except DigestError:
            fp.close()  # the redirect's own response is not read
            raise
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _is_global(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def _checked_connection(own: str, url: str) -> Any:
    """A ``socket.create_connection`` for http.client that connects only to
    addresses :func:`check_link` allows, checking the very addresses it
    connects to. Checking a name before the request is not enough: a name
    can resolve to a public address for the check and to a private one a
    moment later, for the connection (DNS rebinding)."""

    def connect(
        address: tuple[str, int],
        timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        host, port = address
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if host.lower() != own and not all(_is_global(str(i[4][0])) for i in infos):
            raise _not_followed(url, host)
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError(f"{host}: no address to connect to")

    return connect


def _direct(req: Any) -> bool:
    """Does ``req`` go straight to its server (no proxy between)? Only then
    is the address connected to the server's own."""
    return not getattr(req, "_tunnel_host", None) and req.host == urlsplit(req.full_url).netloc


def _checked(conn_class: Any, own: str, url: str) -> Any:
    """``conn_class`` (an http.client connection) connecting through
    :func:`_checked_connection`."""
    connect = _checked_connection(own, url)

    def connection(host: str, **kwargs: Any) -> Any:
        conn = conn_class(host, **kwargs)
        conn._create_connection = connect
        return conn

    return connection


class _CheckedHTTP(urllib.request.HTTPHandler):
    def __init__(self, own: str) -> None:
        super().__init__()
        self.own = own

    def http_open(self, req: Any) -> Any:
        if not _direct(req):
            return super().http_open(req)
        return self.do_open(_checked(http.client.HTTPConnection, self.own, req.full_url), req)


class _CheckedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, own: str) -> None:
        super().__init__()
        self.own = own

    def https_open(self, req: Any) -> Any:
        if not _direct(req):
            return super().https_open(req)
        connection = _checked(http.client.HTTPSConnection, self.own, req.full_url)
        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


def _opener(origin: str | None = None) -> urllib.request.OpenerDirector:
    # No ProxyHandler from the environment surprises: build the usual chain
    # but with our redirect rule, and without file:/ftp:/data: handlers.
    # Following a feed's links (``origin``), connections are made only to
    # addresses check_link allows (through a proxy, the proxy resolves the
    # name: only the check before the request applies).
    own = (urlsplit(origin).hostname or "").lower() if origin and is_url(origin) else ""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        _CheckedHTTP(own) if origin is not None else urllib.request.HTTPHandler(),
        _CheckedHTTPS(own) if origin is not None else urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        _WebOnlyRedirects(origin),
    ):
        opener.add_handler(handler)
    return opener


def get(
    url: str,
    *,
    timeout: float = 20.0,
    max_bytes: int = 10_000_000,
    user_agent: str = USER_AGENT,
    accept: str = "*/*",
    origin: str | None = None,
) -> Response:
    """GET ``url``: the body, at most ``max_bytes``, within ``timeout`` seconds in all.

    ``timeout`` bounds connecting, each read, and the whole download, so a
    server that sends a byte now and then cannot hold the build. ``origin``:
    the feed ``url`` is a link of; the link and its redirects are then
    followed only where :func:`check_link` allows.
    """
    if not is_url(url):
        raise DigestError(f"{url}: not an http(s) address", hint="give a URL starting https://")
    if origin is not None:
        check_link(url, origin)
    request = urllib.request.Request(
        url, headers={"User-Agent": user_agent, "Accept": accept, "Accept-Encoding": "identity"}
    )
    deadline = time.monotonic() + timeout
    try:
        with _opener(origin).open(request, timeout=timeout) as resp:
            data = _read(resp, url, deadline, timeout, max_bytes)
            headers: Message = resp.headers
            final = resp.geturl()
    except DigestError:
        raise
    except urllib.error.HTTPError as exc:
        exc.close()  # its body is not needed; do not leave the socket to the collector
        raise DigestError(
            f"{url}: HTTP {exc.code} {exc.reason}",
            hint=(
                "the server failed; try again later"
                if exc.code >= 500
                else "check the address (it may have moved or need a login)"
            ),
        ) from exc
    except urllib.error.URLError as exc:
        raise _network_error(url, exc.reason, timeout) from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise _network_error(url, exc, timeout) from exc
    content_type = (headers.get_content_type() or "").lower()
    return Response(
        url=final, content_type=content_type, charset=headers.get_content_charset(), data=data
    )


def _read(resp: IO[bytes], url: str, deadline: float, timeout: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise DigestError(
                f"{url}: stalled, not finished within {timeout:g} s",
                hint="try again later, or raise build.timeout",
            )
        # read1: what has arrived (up to 64 KiB), so the deadline is checked
        # between chunks even when a server sends a byte at a time
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise DigestError(
                f"{url}: larger than {max_bytes} bytes",
                hint="raise build.max_feed_bytes if this source is right",
            )
        chunks.append(chunk)


def _network_error(url: str, reason: object, timeout: float) -> DigestError:
    host = urlsplit(url).hostname or url
    if isinstance(reason, TimeoutError):
        return DigestError(
            f"{url}: no response within {timeout:g} s (the server stalled)",
            hint="try again later, or raise build.timeout",
        )
    if isinstance(reason, socket.gaierror):
        return DigestError(
            f"{url}: cannot resolve {host} (offline, or no such host)",
            hint="check the internet connection and the address",
        )
    if isinstance(reason, ConnectionRefusedError):
        return DigestError(
            f"{url}: connection refused by {host}", hint="check the address and port"
        )
    if isinstance(reason, ssl.SSLError):
        return DigestError(
            f"{url}: secure connection failed ({reason})",
            hint="check the address; the site's certificate may be invalid",
        )
    if isinstance(reason, OSError):
        text = reason.strerror or str(reason)
        return DigestError(
            f"{url}: cannot connect: {text}", hint="check the internet connection and the address"
        )
    return DigestError(f"{url}: request failed: {reason}", hint="check the address")
