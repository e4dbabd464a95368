"""`/healthz`, `/readyz` and `/metrics`: the routes `serve.py` mounts beside the app.

- `GET /healthz` (liveness): 200 ``{"status": "ok"}`` while the process answers.
- `GET /readyz` (readiness, `webapp.operations.health`): 200 when ready, 503
  when not, with ``{"status", "checks": {"database", "answers", "api"}}``;
  answers within about 1.5 s whatever the database does.
- `GET /metrics`: the Prometheus text format (`webapp.operations.metrics`,
  rendered at most every `METRICS_REUSE` s),
  for loopback clients, or any client sending ``Authorization: Bearer
  <ABLT_METRICS_TOKEN>``; others get 403 (401 for a wrong token). Behind a
  reverse proxy the client is the one `ABLT_TRUSTED_PROXY_HOPS` trusts in
  `X-Forwarded-For` (`webapp.auth.throttle.client_address`); with no trusted
  hops, a request that carries forwarding headers came through a proxy, so
  its loopback peer does not make it a loopback client.

Each is served under `/` and under the app's base URL path. They are exact
paths: Streamlit's own routes (`/_stcore/health`, `/auth/login`,
`/oauth2callback`, the app's pages) are untouched. Nothing in a body is a
secret. Streamlit 1.67 serves extra routes with `st.App(routes=...)`.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from webapp.auth.throttle import client_address
from webapp.operations.health import Readiness
from webapp.operations.metrics import REGISTRY

HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
NO_STORE: Final = {"Cache-Control": "no-store"}
# Seconds a rendered /metrics body is served again: a scrape storm (50 a second)
# then costs one rendering per interval, far below any Prometheus scrape interval.
METRICS_REUSE: Final = 0.5
FORWARDING_HEADERS: Final = ("x-forwarded-for", "forwarded", "x-real-ip")


def is_loopback(address: str | None) -> bool:
    """Whether `address` is a loopback IP (127.0.0.0/8, ::1, or ::ffff:127.x)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def bearer_matches(headers: Mapping[str, str], token: str | None) -> bool:
    """Whether `Authorization: Bearer <token>` is sent (compared in constant time)."""
    if not token:
        return False
    sent = headers.get("authorization", "")
    scheme, _, value = sent.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def metrics_access(
    peer: str | None, headers: Mapping[str, str], token: str | None, trusted_proxy_hops: int
) -> int:
    """The HTTP status for a `/metrics` request: 200 (allowed), 401 (a wrong
    token was sent) or 403 (not loopback, no token). See the module docstring."""
    if bearer_matches(headers, token):
        return 200
    if "authorization" in headers and token:
        return 401
    lowered = {key.lower() for key in headers}
    if trusted_proxy_hops <= 0 and any(name in lowered for name in FORWARDING_HEADERS):
        return 403  # came through a proxy we were not told to trust
    client = client_address(peer, headers, trusted_proxy_hops)
    return 200 if is_loopback(client) else 403


def build_routes(
    *,
    readiness: Readiness,
    metrics_token: Callable[[], str | None],
    trusted_proxy_hops: Callable[[], int],
    registry: CollectorRegistry = REGISTRY,
    base_path: str = "",
    metrics_reuse: float = METRICS_REUSE,
) -> list[BaseRoute]:
    """The three routes, under `/` and under `base_path` if there is one.

    `metrics_token()` and `trusted_proxy_hops()` are read per request (the
    app's settings); `readiness` keeps its probes between requests;
    `metrics_reuse`: seconds a rendered /metrics body is reused (0: never).
    """
    rendered: list[tuple[float, bytes]] = []  # the last body and when it was made
    render_lock = threading.Lock()

    def render() -> bytes:
        with render_lock:
            now = time.monotonic()
            if rendered and now - rendered[0][0] < metrics_reuse:
                return rendered[0][1]
            body = generate_latest(registry)
            rendered[:] = [(now, body)]
            return body

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers=NO_STORE)

    async def readyz(_request: Request) -> Response:
        report = await run_in_threadpool(readiness.report)
        return JSONResponse(
            report.body(), status_code=200 if report.ready else 503, headers=NO_STORE
        )

    async def metrics(request: Request) -> Response:
        peer = request.client.host if request.client else None
        status = metrics_access(peer, request.headers, metrics_token(), trusted_proxy_hops())
        if status != 200:
            words = "Wrong token." if status == 401 else "Metrics are for loopback or a token."
            headers = {**NO_STORE, "WWW-Authenticate": "Bearer"} if status == 401 else NO_STORE
            return Response(words, status_code=status, headers=headers, media_type="text/plain")
        body = await run_in_threadpool(render)
        return Response(body, headers={**NO_STORE, "Content-Type": CONTENT_TYPE_LATEST})

    prefixes = [""]
    if base_path.strip("/"):
        prefixes.append(f"/{base_path.strip('/')}")
    routes: list[BaseRoute] = []
    for prefix in prefixes:
        routes.append(Route(f"{prefix}{HEALTH_PATH}", healthz, methods=["GET"]))
        routes.append(Route(f"{prefix}{READY_PATH}", readyz, methods=["GET"]))
        routes.append(Route(f"{prefix}{METRICS_PATH}", metrics, methods=["GET"]))
    return routes
