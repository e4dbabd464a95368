"""Bot avatars, fetched by the server and handed to the browser inline.

A bot's `avatar_url` may point somewhere the browser cannot reach: in demo mode
it is the emulator on the server's loopback, and behind a strict proxy it may be
a host the team's browsers can't see. So the app fetches each avatar once on the
server and gives Streamlit a `data:` URL. The request carries no credentials:
avatars may live on third-party hosts that must never see the bearer token.

The URL comes from the API, which may be hostile, so the server's fetch is
fenced in (server-side request forgery, OWASP SSRF prevention):

- only `http` and `https`;
- the host name is resolved and EVERY address checked: nothing on loopback,
  private, link-local (169.254.169.254, a cloud's metadata service),
  shared, multicast, reserved or unspecified addresses, IPv4 embedded in IPv6
  included; the connection then goes to the checked address (no second
  lookup a rebinding DNS could answer differently), TLS still verifying the name;
- redirects are followed by hand, each hop checked the same way, at most
  `MAX_REDIRECTS`;
- at most `MAX_AVATAR_BYTES`, read as a stream and dropped beyond it;
- at most `AVATAR_TIME_LIMIT_SECONDS` in all (a server that drips a byte a
  second included), and the page waits no longer than that;
- failures are cached (`FAILURE_CACHE_SECONDS`) like successes, so a bad avatar
  costs its wait once, not on every run.

The one exception is the app's own API: avatars on its origin (the demo
emulator on loopback, a self-hosted aBLT on the LAN) are fetched like the API
itself is. Tests pass their own `AddressPolicy` to reach servers they start on
loopback; nothing else does.

A bot without an avatar (or whose avatar can't be had) gets a generated one:
a round SVG with its initials, the same size as the others (an emoji such as
🤖 shows as a small black glyph where the browser has no colour-emoji font).
"""

from __future__ import annotations

import base64
import html
import ipaddress
import logging
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Final

import httpx

from webapp.ui.i18n import _

AVATAR_CACHE_SECONDS: Final = 3600
FAILURE_CACHE_SECONDS: Final = 600  # a failed avatar is not asked for again before this
AVATAR_TIME_LIMIT_SECONDS: Final = 3.0  # the whole fetch: lookups, redirects, body
MAX_AVATAR_BYTES: Final = 1024 * 1024  # an avatar larger than this is not an avatar
MAX_REDIRECTS: Final = 3
USER_AVATAR: Final = ":material/person:"  # the member's own messages, on every page
CACHE_ENTRIES: Final = 4096  # avatars remembered per process (oldest forgotten first)
FETCH_THREADS: Final = 24  # a page of cards fetches side by side
SCHEMES: Final = ("http", "https")
INITIALS_SIZE = 56  # px, as the catalogue shows avatars
INITIALS_BACKGROUND = "#64748B"  # a neutral slate: no bot's colour, fine on white and grey
INITIALS_COLOR = "#FFFFFF"
_WORD = re.compile(r"[^\W_]+")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]


class AvatarRefused(Exception):
    """Why an avatar was not fetched (logged, never shown: the initials stand in)."""


# -------------------------------------------------------------- the policy


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: str | IPAddress) -> bool:
    """True only for a globally routable unicast address (IANA special-purpose
    registries): not loopback, private, link-local, shared (100.64/10),
    multicast, reserved or unspecified, nor an IPv6 address wrapping one."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public_address(inner):
            return False
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def origin_of(url: str | httpx.URL) -> str:
    """`scheme://host:port` with the default port spelled out, lower case."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host}:{port}".lower()


@dataclass(frozen=True)
class AddressPolicy:
    """Where the server may fetch avatars from.

    `allow`: networks allowed although not public. Tests only (their servers
    are on loopback); the app never sets it.
    `trusted_origins`: origins (`origin_of`) fetched whatever their address:
    the app's own API, which it talks to anyway.
    """

    allow: tuple[IPNetwork, ...] = ()
    trusted_origins: frozenset[str] = frozenset()

    @classmethod
    def trusting(cls, api_base_url: str | None) -> AddressPolicy:
        """The app's policy: public addresses, plus the API's own origin."""
        if not api_base_url:
            return cls()
        return cls(trusted_origins=frozenset({origin_of(api_base_url)}))

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return any(ip in net for net in self.allow) or is_public_address(ip)


PUBLIC_ONLY: Final = AddressPolicy()


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (both families), as text."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# --------------------------------------------------------------- the fetch


def _check_hop(url: httpx.URL, policy: AddressPolicy, resolver: Resolver) -> str:
    """The address to connect to for `url`, or AvatarRefused."""
    if url.scheme not in SCHEMES:
        raise AvatarRefused(f"scheme {url.scheme!r} is not http(s)")
    if url.userinfo:
        raise AvatarRefused("credentials in the URL")
    if not url.host:
        raise AvatarRefused("no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        addresses = list(resolver(url.host, port))
    except (OSError, UnicodeError) as err:
        raise AvatarRefused(f"the name did not resolve ({type(err).__name__})") from err
    if not addresses:
        raise AvatarRefused("the name resolved to no address")
    if origin_of(url) not in policy.trusted_origins:
        refused = [a for a in addresses if not policy.address_allowed(a)]
        if refused:
            raise AvatarRefused(f"a non-public address ({refused[0]})")
    return addresses[0]


def _pinned(url: httpx.URL, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The request for `url` sent to the checked `address`: URL, headers, extensions."""
    host_header = url.host if url.port is None else f"{url.host}:{url.port}"
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    # Identity only: a compressed body could unpack far past the size cap.
    headers = {"Host": host_header, "Accept-Encoding": "identity", "Accept": "image/*"}
    return url.copy_with(host=address), headers, extensions


def fetch_avatar_data_url(
    url: str,
    *,
    policy: AddressPolicy = PUBLIC_ONLY,
    time_limit: float = AVATAR_TIME_LIMIT_SECONDS,
    max_bytes: int = MAX_AVATAR_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    resolver: Resolver = system_resolver,
) -> str | None:
    """The image at `url` as a `data:` URL, or None when it can't be had safely.

    Never raises; every refusal is logged at INFO with its reason. The rules
    are the module's (scheme, addresses after each redirect, size, time).
    """
    try:
        return _fetch(url, policy, time_limit, max_bytes, max_redirects, resolver)
    except AvatarRefused as err:
        log.info("Avatar refused (%s): %.200s", err, url)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as err:
        log.info("Avatar not fetched (%s): %.200s", type(err).__name__, url)
    return None


def _fetch(
    url: str,
    policy: AddressPolicy,
    time_limit: float,
    max_bytes: int,
    max_redirects: int,
    resolver: Resolver,
) -> str:
    deadline = time.monotonic() + time_limit
    current = httpx.URL(url)
    # No proxies from the environment (they would connect by name, unchecked),
    # no cookies, no credentials.
    with httpx.Client(trust_env=False, follow_redirects=False) as http:
        for _hop in range(max_redirects + 1):
            address = _check_hop(current, policy, resolver)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AvatarRefused("out of time")
            target, headers, extensions = _pinned(current, address)
            with http.stream(
                "GET",
                target,
                headers=headers,
                extensions=extensions,
                timeout=httpx.Timeout(remaining),
            ) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    current = current.join(location)
                    continue
                return _read_image(response, deadline, max_bytes)
    raise AvatarRefused(f"more than {max_redirects} redirects")


def _read_image(response: httpx.Response, deadline: float, max_bytes: int) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code != 200:
        raise AvatarRefused(f"status {response.status_code}")
    if not content_type.startswith("image/") or not re.fullmatch(
        r"[\w.+-]+/[\w.+-]+", content_type
    ):
        raise AvatarRefused(f"not an image ({content_type[:40]!r})")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise AvatarRefused(f"encoded body ({encoding[:20]!r})")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise AvatarRefused(f"too large ({declared} bytes declared)")
    body = bytearray()
    for chunk in response.iter_raw():  # each piece as it arrives (a size would buffer)
        body += chunk
        if len(body) > max_bytes:
            raise AvatarRefused(f"too large (over {max_bytes} bytes)")
        if time.monotonic() > deadline:
            raise AvatarRefused("out of time while reading")
    encoded = base64.b64encode(bytes(body)).decode("ascii")
    return f"data:{content_type};base64,{encoded}"


# ----------------------------------------------------- cache and fetch pool


@dataclass
class _Entry:
    value: str | None
    expires: float


@dataclass
class AvatarCache:
    """Fetched avatars and failures by (url, policy), with expiry, bounded in size.

    One fetch per URL at a time: callers asking for a URL being fetched wait
    for that fetch. Thread-safe (every browser session runs in its own thread).
    """

    ok_seconds: float = AVATAR_CACHE_SECONDS
    failure_seconds: float = FAILURE_CACHE_SECONDS
    max_entries: int = CACHE_ENTRIES
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[tuple[str, AddressPolicy], _Entry] = field(default_factory=OrderedDict)
    _pending: dict[tuple[str, AddressPolicy], Future[str | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lookup(self, key: tuple[str, AddressPolicy]) -> tuple[bool, str | None]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.expires <= self.clock():
                return False, None
            self._entries.move_to_end(key)
            return True, entry.value

    def store(self, key: tuple[str, AddressPolicy], value: str | None) -> None:
        ttl = self.ok_seconds if value is not None else self.failure_seconds
        with self._lock:
            self._entries[key] = _Entry(value, self.clock() + ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            self._pending.pop(key, None)

    def pending(
        self, key: tuple[str, AddressPolicy], start: Callable[[], Future[str | None]]
    ) -> Future[str | None]:
        """The fetch under way for `key`, started with `start()` if none is."""
        with self._lock:
            future = self._pending.get(key)
            if future is None:
                future = start()
                self._pending[key] = future
            return future

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._pending.clear()


_cache = AvatarCache()
_pool = ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="avatar")


def _start(url: str, policy: AddressPolicy, cache: AvatarCache) -> Future[str | None]:
    key = (url, policy)

    def run() -> str | None:
        value = fetch_avatar_data_url(url, policy=policy)
        cache.store(key, value)
        return value

    return _pool.submit(run)


def cached_avatar(
    url: str, policy: AddressPolicy, *, cache: AvatarCache | None = None
) -> str | None:
    """The avatar at `url` from the cache, else fetched (waiting at most the time limit).

    A fetch that overruns its limit counts as a failure, cached at once; the
    caller gets None.
    """
    cache = cache or _cache
    key = (url, policy)
    hit, value = cache.lookup(key)
    if hit:
        return value
    future = cache.pending(key, lambda: _start(url, policy, cache))
    try:
        return future.result(timeout=AVATAR_TIME_LIMIT_SECONDS + 0.5)
    except FutureTimeout:
        # Still stuck (a stalled name lookup): a failure from now on, so the
        # next runs do not wait for it again; the fetch's own end may replace it.
        cache.store(key, None)
        return None


def prefetch_avatars(
    urls: Iterable[str | None], api_base_url: str | None = None, *, cache: AvatarCache | None = None
) -> None:
    """Start fetching every avatar of a page at once, so they load side by side
    (a page of slow avatars costs one time limit, not one each)."""
    cache = cache or _cache
    policy = AddressPolicy.trusting(api_base_url)
    for url in dict.fromkeys(u for u in urls if u and u.startswith(SCHEMES)):
        key = (url, policy)
        if not cache.lookup(key)[0]:
            cache.pending(key, lambda u=url: _start(u, policy, cache))  # type: ignore[misc]


def forget_avatars() -> None:
    """Drop every cached avatar and failure (tests; a manual refresh)."""
    _cache.clear()


# ------------------------------------------------------------ the initials


def initials(name: str) -> str:
    """One or two capital letters for a name: "Ada the Code Mentor" -> "AM"."""
    words: list[str] = _WORD.findall(name)
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def initials_avatar(name: str) -> str:
    """A round avatar with the name's initials, as an SVG `data:` URL."""
    size, half = INITIALS_SIZE, INITIALS_SIZE // 2
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}">'
        f'<circle cx="{half}" cy="{half}" r="{half}" fill="{INITIALS_BACKGROUND}"/>'
        f'<text x="50%" y="50%" dy="0.35em" text-anchor="middle" '
        f'font-family="Source Sans Pro, Helvetica, Arial, sans-serif" font-size="22" '
        f'font-weight="600" fill="{INITIALS_COLOR}">{html.escape(initials(name))}</text>'
        "</svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def avatar_alt(name: str) -> str:
    """The text alternative of a bot's avatar (an image's `alt`): what a screen
    reader says in its place. `name` is the API's bot name, shown as text."""
    return _("Avatar of {name}").format(name=name)


def avatar_for(avatar_url: str | None, name: str, api_base_url: str | None = None) -> str:
    """A `data:` URL for `st.image` / `st.chat_message(avatar=...)`: the bot's
    image, fetched under the module's rules (`api_base_url`: the app's own API,
    whose origin is trusted), else a round one with its initials."""
    if avatar_url and avatar_url.startswith(SCHEMES):
        fetched = cached_avatar(avatar_url, AddressPolicy.trusting(api_base_url))
        if fetched:
            return fetched
    return initials_avatar(name)
