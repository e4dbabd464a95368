"""Avatars reach the browser inline, fetched by the server without credentials,
and a hostile avatar URL can make the server reach neither an internal address
nor wait, nor fill memory (issue 12, "Content from the API is data").

The servers here run on loopback, which the app's rule forbids: the tests pass
an `AddressPolicy` allowing 127.0.0.1 only. No test sends traffic anywhere else;
the policy itself is tested on addresses alone.
"""

from __future__ import annotations

import base64
import gzip
import ipaddress
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webapp.bots import avatars
from webapp.bots.avatars import (
    INITIALS_SIZE,
    AddressPolicy,
    AvatarCache,
    avatar_for,
    cached_avatar,
    fetch_avatar_data_url,
    initials,
    initials_avatar,
    is_public_address,
)

LOOPBACK_ONLY = AddressPolicy(allow=(ipaddress.ip_network("127.0.0.1/32"),))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# ------------------------------------------------------------- the policy


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # a cloud's metadata service
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "240.0.0.1",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_internal_and_special_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)
    assert not avatars.PUBLIC_ONLY.address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address)


def test_the_test_allow_list_opens_exactly_what_it_names() -> None:
    assert LOOPBACK_ONLY.address_allowed("127.0.0.1")
    assert not LOOPBACK_ONLY.address_allowed("127.0.0.2")
    assert not LOOPBACK_ONLY.address_allowed("10.0.0.1")


def test_the_apps_policy_trusts_its_own_api_origin_only() -> None:
    policy = AddressPolicy.trusting("http://127.0.0.1:8123/")
    assert policy.trusted_origins == frozenset({"http://127.0.0.1:8123"})
    assert not policy.address_allowed("127.0.0.1")  # any other port is not the API
    assert AddressPolicy.trusting("https://api.ablt.ai").trusted_origins == frozenset(
        {"https://api.ablt.ai:443"}
    )


def refusing_resolver(answers: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://metadata.example/latest", {"metadata.example": ["169.254.169.254"]}),
        # Every address is checked: one internal among public ones is enough to refuse.
        ("http://mixed.example/a.png", {"mixed.example": ["93.184.216.34", "10.0.0.1"]}),
        ("http://v6.example/a.png", {"v6.example": ["fc00::1"]}),
        ("http://127.0.0.1/a.png", {"127.0.0.1": ["127.0.0.1"]}),
        ("http://[::1]/a.png", {"::1": ["::1"]}),
        ("http://0.0.0.0/a.png", {"0.0.0.0": ["0.0.0.0"]}),
    ],
)
def test_a_name_resolving_to_an_internal_address_is_refused_before_any_connection(
    url: str, answers: dict[str, list[str]]
) -> None:
    # Refused at the check: no connection is attempted, to any address.
    assert fetch_avatar_data_url(url, resolver=refusing_resolver(answers)) is None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com/a.png",
        "data:image/png;base64,AAAA",
        "gopher://127.0.0.1:6379/_INFO",
        "http://user:secret@127.0.0.1/a.png",
        "not a url at all",
        "",
    ],
)
def test_only_plain_http_and_https_urls_are_fetched(url: str) -> None:
    def no_lookup(host: str, port: int) -> list[str]:
        raise AssertionError(f"looked up {host}")

    assert fetch_avatar_data_url(url, policy=LOOPBACK_ONLY, resolver=no_lookup) is None


# ------------------------------------------------- a loopback avatar server


@dataclass
class Seen:
    paths: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)
    drip_bytes_sent: int = 0
    drip_closed_early: threading.Event = field(default_factory=threading.Event)
    big_bytes_sent: int = 0


def make_handler(seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            seen.paths.append(self.path)
            seen.hosts.append(self.headers.get("Host", ""))
            if self.headers.get("Authorization"):
                seen.authorization.append(self.headers["Authorization"])
            port = self.server.server_address[1]
            path = self.path
            if path == "/a.png":
                self.send(200, PNG, "image/png")
            elif path == "/page.html":
                self.send(200, b"<html></html>", "text/html")
            elif path == "/gone.png":
                self.send(404, b"", "image/png")
            elif path.startswith("/hop/"):
                left = int(path.rsplit("/", 1)[1])
                target = "/a.png" if left == 0 else f"/hop/{left - 1}"
                self.send(302, b"", "text/plain", Location=target)
            elif path == "/loop":
                self.send(302, b"", "text/plain", Location="/loop")
            elif path == "/to-metadata":
                self.send(
                    302, b"", "text/plain", Location="http://169.254.169.254/latest/meta-data/"
                )
            elif path == "/to-private-name":
                self.send(302, b"", "text/plain", Location=f"http://internal.example:{port}/a.png")
            elif path == "/declared-300mb":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(300 * 1024 * 1024))
                self.end_headers()
                self.wfile.write(PNG)
            elif path == "/endless":
                # No length given: a body that never ends unless the reader stops.
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"\x00" * 65536
                try:
                    for _ in range(300 * 16):  # up to 300 MB
                        self.wfile.write(chunk)
                        seen.big_bytes_sent += len(chunk)
                except OSError:
                    pass
            elif path == "/drip":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "100")
                self.end_headers()
                try:
                    for _ in range(100):  # one byte a second: 100 s if read to the end
                        self.wfile.write(b"\x00")
                        self.wfile.flush()
                        seen.drip_bytes_sent += 1
                        time.sleep(1.0)
                except OSError:
                    seen.drip_closed_early.set()
                    return
                if seen.drip_bytes_sent < 100:
                    seen.drip_closed_early.set()
            elif path == "/gzip.png":
                self.send(200, gzip.compress(PNG * 1000), "image/png", Content_Encoding="gzip")
            else:
                self.send(404, b"", "text/plain")

    return Handler


@dataclass
class AvatarServer:
    base_url: str
    port: int
    seen: Seen


@pytest.fixture
def server() -> Iterator[AvatarServer]:
    seen = Seen()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(seen))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    try:
        yield AvatarServer(f"http://127.0.0.1:{port}", port, seen)
    finally:
        httpd.shutdown()
        httpd.server_close()


def decoded(data_url: str | None) -> bytes:
    assert data_url is not None and data_url.startswith("data:image/png;base64,")
    return base64.b64decode(data_url.split(",", 1)[1])


def test_an_image_becomes_a_data_url_without_credentials(server: AvatarServer) -> None:
    assert decoded(fetch_avatar_data_url(f"{server.base_url}/a.png", policy=LOOPBACK_ONLY)) == PNG
    assert server.seen.authorization == []


def test_the_default_policy_sends_nothing_to_loopback(server: AvatarServer) -> None:
    assert fetch_avatar_data_url(f"{server.base_url}/a.png") is None
    assert server.seen.paths == []


def test_the_connection_goes_to_the_checked_address_under_the_given_name(
    server: AvatarServer,
) -> None:
    # The name is resolved once and checked; the request goes to that address
    # with the name in its Host header (no second lookup to rebind).
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    url = f"http://avatars.example:{server.port}/a.png"
    assert decoded(fetch_avatar_data_url(url, policy=LOOPBACK_ONLY, resolver=resolve)) == PNG
    assert lookups == ["avatars.example"]
    assert server.seen.hosts == [f"avatars.example:{server.port}"]


def test_redirects_are_followed_by_hand_up_to_the_limit(server: AvatarServer) -> None:
    hops = avatars.MAX_REDIRECTS
    url = f"{server.base_url}/hop/{hops - 1}"
    assert decoded(fetch_avatar_data_url(url, policy=LOOPBACK_ONLY)) == PNG
    server.seen.paths.clear()
    assert fetch_avatar_data_url(f"{server.base_url}/hop/{hops}", policy=LOOPBACK_ONLY) is None
    assert "/a.png" not in server.seen.paths
    server.seen.paths.clear()
    assert fetch_avatar_data_url(f"{server.base_url}/loop", policy=LOOPBACK_ONLY) is None
    assert len(server.seen.paths) == hops + 1


def test_a_redirect_to_an_internal_address_is_refused_at_the_hop(server: AvatarServer) -> None:
    # The report: an avatar URL that redirects to an internal address.
    assert fetch_avatar_data_url(f"{server.base_url}/to-metadata", policy=LOOPBACK_ONLY) is None

    def resolve(host: str, port: int) -> list[str]:
        return {"127.0.0.1": ["127.0.0.1"], "internal.example": ["10.0.0.7"]}[host]

    url = f"{server.base_url}/to-private-name"
    assert fetch_avatar_data_url(url, policy=LOOPBACK_ONLY, resolver=resolve) is None
    assert server.seen.paths == ["/to-metadata", "/to-private-name"]


def test_a_300_mb_avatar_is_refused_by_its_declared_length(server: AvatarServer) -> None:
    assert fetch_avatar_data_url(f"{server.base_url}/declared-300mb", policy=LOOPBACK_ONLY) is None


def test_an_endless_body_is_dropped_past_the_size_cap(server: AvatarServer) -> None:
    url = f"{server.base_url}/endless"
    assert fetch_avatar_data_url(url, policy=LOOPBACK_ONLY, max_bytes=200_000) is None
    # The reader stopped: the server could not push anywhere near its 300 MB.
    deadline = time.monotonic() + 10
    while server.seen.big_bytes_sent < 200_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.seen.big_bytes_sent < 50 * 1024 * 1024


def test_a_dripping_avatar_is_given_up_at_the_time_limit(server: AvatarServer) -> None:
    # The report: one byte a second. Read to its end it would take 100 s.
    url = f"{server.base_url}/drip"
    assert fetch_avatar_data_url(url, policy=LOOPBACK_ONLY, time_limit=1.5) is None
    assert server.seen.drip_closed_early.wait(timeout=10)
    assert server.seen.drip_bytes_sent < 100


@pytest.mark.parametrize("path", ["/page.html", "/gone.png", "/gzip.png"])
def test_what_is_not_a_plain_image_is_refused(server: AvatarServer, path: str) -> None:
    assert fetch_avatar_data_url(f"{server.base_url}{path}", policy=LOOPBACK_ONLY) is None


def test_a_dead_port_is_a_failure_not_an_error() -> None:
    assert fetch_avatar_data_url("http://127.0.0.1:9/none.png", policy=LOOPBACK_ONLY) is None


# ------------------------------------------------------------ cache, fallback


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_are_cached_and_asked_again_only_after_they_expire(server: AvatarServer) -> None:
    clock = FakeClock()
    cache = AvatarCache(failure_seconds=60, clock=clock)
    url = f"{server.base_url}/gone.png"
    assert cached_avatar(url, LOOPBACK_ONLY, cache=cache) is None
    assert cached_avatar(url, LOOPBACK_ONLY, cache=cache) is None
    assert server.seen.paths == ["/gone.png"]  # the second run cost nothing
    clock.now += 61
    assert cached_avatar(url, LOOPBACK_ONLY, cache=cache) is None
    assert server.seen.paths == ["/gone.png", "/gone.png"]


def test_successes_are_cached_too(server: AvatarServer) -> None:
    cache = AvatarCache(clock=FakeClock())
    url = f"{server.base_url}/a.png"
    first = cached_avatar(url, LOOPBACK_ONLY, cache=cache)
    assert decoded(first) == PNG
    assert cached_avatar(url, LOOPBACK_ONLY, cache=cache) == first
    assert server.seen.paths == ["/a.png"]


def test_the_cache_forgets_the_oldest_beyond_its_size() -> None:
    cache = AvatarCache(max_entries=2, clock=FakeClock())
    for name in "abc":
        cache.store((name, LOOPBACK_ONLY), None)
    assert not cache.lookup(("a", LOOPBACK_ONLY))[0]
    assert cache.lookup(("c", LOOPBACK_ONLY)) == (True, None)


def test_a_bad_avatar_becomes_the_initials_and_the_apis_own_origin_is_fetched(
    server: AvatarServer,
) -> None:
    avatars.forget_avatars()
    fallback = initials_avatar("Omni Fast")
    assert avatar_for(None, "Omni Fast") == fallback
    assert avatar_for("javascript:alert(1)", "Omni Fast") == fallback
    # On loopback and not the API: refused without a request.
    assert avatar_for(f"{server.base_url}/a.png", "Omni Fast") == fallback
    assert server.seen.paths == []
    # The app's own API (the demo emulator is on loopback too) is trusted.
    assert decoded(avatar_for(f"{server.base_url}/a.png", "Omni Fast", server.base_url)) == PNG
    assert avatar_for(f"{server.base_url}/page.html", "Omni Fast", server.base_url) == fallback
    avatars.forget_avatars()


def test_an_emulator_avatar_becomes_an_inline_svg(emulator):
    url = f"{emulator.base_url}/avatars/omni.svg"

    data_url = fetch_avatar_data_url(url, policy=AddressPolicy.trusting(emulator.base_url))

    assert data_url is not None and data_url.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(data_url.split(",", 1)[1]).decode()
    assert "<svg" in svg


def test_the_avatar_request_carries_no_token(emulator):
    fetch_avatar_data_url(
        f"{emulator.base_url}/avatars/omni.svg", policy=AddressPolicy.trusting(emulator.base_url)
    )

    avatar_requests = [r for r in emulator.requests if r.path.startswith("/avatars/")]
    assert avatar_requests, "the emulator saw no avatar request"
    assert all("authorization" not in {k.lower() for k in r.headers} for r in avatar_requests)


# ------------------------------------------------------------- the initials


def svg_of(data_url: str) -> str:
    assert data_url.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(data_url.split(",", 1)[1]).decode()


def test_the_initials_avatar_is_a_round_56px_svg_with_the_initials() -> None:
    svg = svg_of(initials_avatar("Ada the Code Mentor"))
    assert f'width="{INITIALS_SIZE}" height="{INITIALS_SIZE}"' in svg and INITIALS_SIZE == 56
    assert "<circle" in svg and ">AM</text>" in svg


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Omni", "O"),
        ("Ada the Code Mentor", "AM"),
        ("Marcus, Stoic Sage", "MS"),
        ("élan vital", "ÉV"),
        ("<script>", "S"),
        ("🤖 ---", "?"),
        ("", "?"),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


def test_a_name_cannot_break_out_of_the_svg() -> None:
    svg = svg_of(initials_avatar("&lt; <b>"))
    assert "<b>" not in svg and svg.count("<text") == 1


def test_a_fetch_stuck_past_the_limit_is_a_cached_failure_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A name lookup that stalls (a DNS server that never answers) holds its worker.
    release = threading.Event()
    calls: list[str] = []

    def stalled(url: str, **kwargs: object) -> str | None:
        calls.append(url)
        release.wait(30)
        return None

    monkeypatch.setattr(avatars, "fetch_avatar_data_url", stalled)
    monkeypatch.setattr(avatars, "AVATAR_TIME_LIMIT_SECONDS", 0.2)
    cache = AvatarCache(clock=FakeClock())
    try:
        assert cached_avatar("http://stalled.example/a.png", LOOPBACK_ONLY, cache=cache) is None
        assert cache.lookup(("http://stalled.example/a.png", LOOPBACK_ONLY)) == (True, None)
        assert cached_avatar("http://stalled.example/a.png", LOOPBACK_ONLY, cache=cache) is None
        assert calls == ["http://stalled.example/a.png"]  # one stuck fetch, not one per run
    finally:
        release.set()


def test_an_avatar_has_a_text_alternative_naming_its_bot() -> None:
    from webapp.bots.avatars import avatar_alt

    assert avatar_alt("Code Mentor") == "Avatar of Code Mentor"
