"""The Starlette app: routes, auth, faults, request recording and SSE streaming.

Every request gets an ``x-request-id`` (an outermost ASGI wrapper adds it, so
even unhandled 500s and routing 404s carry one). API routes then run a common
prelude: record the request, apply the first matching injected fault, check
the bearer token. ``/_emulator/*`` control routes skip all of that but only
answer loopback clients, and, when the emulator has a control secret (the
app's embedded one always does), only requests that carry it in
``X-Emulator-Secret``: the request log holds members' prompts.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .answers import (
    SHAPES,
    Answer,
    ChatInput,
    attempt_key,
    build_answer,
    count_words,
    estimate_tokens,
    split_pieces,
)
from .answers import Message as ChatMessage
from .bots import BOTS, avatar_svg, find_bot
from .faults import SPLIT_SURROGATE_EVENTS, Fault, FaultBook, RecordedRequest, RequestLog
from .ledger import Ledger, Usage
from .schemas import ChatBody, StatisticsBody, error_detail
from .streams import InFlight, StreamLog, StreamRecord

# Seconds between streamed pieces: visibly "typing" in a demo.
DEFAULT_DELAY = 0.03

CONTROL_PREFIX = "/_emulator/"
CONTROL_SECRET_HEADER = "X-Emulator-Secret"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
MALFORMED_EVENT = b"data: {not json\n\n"


@dataclass
class EmulatorState:
    """Everything one emulator instance keeps; shared with its ``EmulatorHandle``."""

    token: str | None = field(default=None, repr=False)  # never shown in a repr
    delay: float = DEFAULT_DELAY
    ledger: Ledger = field(default_factory=Ledger)
    faults: FaultBook = field(default_factory=FaultBook)
    requests: RequestLog = field(default_factory=RequestLog)
    # Benchmarks: every answer exactly this many words (None: the persona's 90-150).
    answer_words: int | None = None
    answer_shape: str = "paragraphs"  # with answer_words: its layout (answers.SHAPES)
    streams: StreamLog = field(default_factory=StreamLog)
    # Required in X-Emulator-Secret by the control routes; None: not required.
    control_secret: str | None = field(default=None, repr=False)
    # attempt_key -> streamed answers delivered in full. A dropped stream does not
    # count, so a Retry after a failure gets the same answer and a Regenerate a
    # new one; non-streamed answers stay fixed (scripts and tests compare them).
    attempts: dict[str, int] = field(default_factory=dict, repr=False)
    # Chat requests being handled now, and the most at once (see ``streams.InFlight``).
    inflight: InFlight = field(default_factory=InFlight)


class StreamAborted(Exception):
    """Raised inside a stream to make the server abort the connection mid-body."""


class _QuietAbortFilter(logging.Filter):
    """Keeps uvicorn from logging a traceback for deliberately aborted streams."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, StreamAborted):
                return False
            if isinstance(exc, BaseExceptionGroup) and any(
                isinstance(e, StreamAborted) for e in exc.exceptions
            ):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def install_log_filter() -> None:
    """Attach the abort filter to uvicorn's error logger (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietAbortFilter) for f in logger.filters):
        logger.addFilter(_QuietAbortFilter())


class RequestIdMiddleware:
    """Outermost wrapper: a fresh ``x-request-id`` on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class ChatCounter:
    """Counts ``POST /v1/chat`` requests in flight, from arrival to the response's
    end (a streamed answer included) or the client's leaving."""

    def __init__(self, app: ASGIApp, inflight: InFlight) -> None:
        self.app = app
        self.inflight = inflight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != "/v1/chat":
            await self.app(scope, receive, send)
            return
        self.inflight.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight.leave()


def _detail(status: int, detail: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_streamed_chat(path: str, body: Any) -> bool:
    return path == "/v1/chat" and isinstance(body, dict) and body.get("stream") is True


def _auth_error(state: EmulatorState, header: str | None) -> Response | None:
    """401 unless the request carries an acceptable bearer token."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _detail(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
    if state.token is not None and token != state.token:
        return _detail(401, "Invalid token", {"WWW-Authenticate": "Bearer"})
    return None


def _fault_response(fault: Fault) -> Response | None:
    """The immediate response of a status fault (None for stream/timing faults)."""
    if fault.kind == "rate_limit":
        headers = None
        if fault.retry_after is not None:
            headers = {"Retry-After": _format_seconds(fault.retry_after)}
        return _detail(429, "Rate limit exceeded: please wait and retry", headers)
    if fault.kind == "server_error":
        text = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
        return _detail(fault.status, text.get(fault.status, "Internal Server Error"))
    if fault.kind == "unauthorized":
        return _detail(401, "Invalid token", {"WWW-Authenticate": "Bearer"})
    return None


Handler = Callable[[Request, EmulatorState, Fault | None], Awaitable[Response]]


def _api(state: EmulatorState, handler: Handler, *, auth: bool = True) -> Any:
    """Wrap a route with the prelude every API call goes through."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()  # cached by Starlette: the handler can read it again
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = None
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        state.requests.add(
            RecordedRequest(
                method=request.method,
                path=request.url.path,
                json=body,
                headers=headers,
                request_id=request.state.request_id,
            )
        )
        bot_slug = body.get("bot_slug") if isinstance(body, dict) else None
        fault = state.faults.take(
            request.url.path,
            _is_streamed_chat(request.url.path, body),
            bot_slug if isinstance(bot_slug, str) else "",
        )
        if fault is not None:
            if fault.kind == "slow_first_byte" and not await _wait_unless_gone(
                request, fault.seconds
            ):
                state.requests.mark_closed_early(request.state.request_id)
                return Response(status_code=499)  # nobody is left to read it
            immediate = _fault_response(fault)
            if immediate is not None:
                return immediate
        if auth:
            denied = _auth_error(state, request.headers.get("authorization"))
            if denied is not None:
                return denied
        return await handler(request, state, fault)

    return endpoint


async def _wait_unless_gone(request: Request, seconds: float) -> bool:
    """Sleep `seconds`; False as soon as the client disconnects instead.

    The body was read already, so the next ASGI message is the disconnect.
    """

    async def gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(gone())
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
    finally:
        watcher.cancel()
    return watcher not in done


async def _parse(request: Request, model: type[Any]) -> Any:
    """Validate the body against ``model``; raises ValidationError."""
    raw = await request.body()
    return model.model_validate_json(raw.decode("utf-8", errors="replace") or "")


async def health_check(request: Request, state: EmulatorState, fault: Fault | None) -> Response:
    """Liveness, no auth."""
    return JSONResponse({"status": "ok"})


async def list_bots(request: Request, state: EmulatorState, fault: Fault | None) -> Response:
    """The published bots, avatars pointing back at this server."""
    base = str(request.base_url)
    return JSONResponse([bot.to_json(base) for bot in BOTS])


async def avatar(request: Request, state: EmulatorState, fault: Fault | None) -> Response:
    """A bot's SVG avatar, so the catalogue renders offline."""
    filename: str = request.path_params["filename"]
    bot = find_bot(slug=filename.removesuffix(".svg")) if filename.endswith(".svg") else None
    if bot is None:
        return _detail(404, "Avatar not found")
    return Response(
        avatar_svg(bot),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _usage_of(answer: Answer) -> Usage:
    return Usage(
        original_words=count_words(answer.original),
        original_tokens=estimate_tokens(answer.original),
        enchancement_words=count_words(answer.enhancement),
        enchancement_tokens=estimate_tokens(answer.enhancement),
        response_words=count_words(answer.text),
        response_tokens=estimate_tokens(answer.text),
    )


def _event(payload: dict[str, str]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


async def _sse(
    state: EmulatorState,
    pieces: list[str],
    fault: Fault | None,
    record: StreamRecord,
    attempt_key: str = "",
    request_id: str = "",
) -> AsyncIterator[bytes]:
    """The SSE body: an empty first event, one event per piece, then ``[DONE]``.

    A stream fault fires after ``after_pieces`` pieces (or at the end of a shorter answer).
    ``record`` gets the times the pieces and the end were sent (see ``streams``).
    """
    if fault is not None and fault.kind in ("split_surrogate", "empty_answer"):
        try:
            if fault.kind == "split_surrogate":
                for chunk in SPLIT_SURROGATE_EVENTS:
                    yield chunk
            yield b"data: [DONE]\n\n"
        finally:
            state.streams.ended(record, completed=True)
        return
    if fault is not None and fault.kind == "scripted_answer":
        pieces = split_pieces(fault.text)  # a given text (display tests: tables, RTL, ...)
    fire_at = min(fault.after_pieces, len(pieces)) if fault is not None else -1
    completed = False
    try:
        yield _event({"content": ""})
        for index in range(len(pieces) + 1):
            if index == fire_at and fault is not None:
                if fault.kind == "malformed_event":
                    yield MALFORMED_EVENT
                elif fault.kind == "drop_stream":
                    if fault.mode == "abort":
                        raise StreamAborted("drop_stream fault (abort)")
                    return
            if index == len(pieces):
                break
            if state.delay > 0:
                await asyncio.sleep(state.delay)
            yield _event({"content": pieces[index]})
            state.streams.piece_sent(record)
        yield b"data: [DONE]\n\n"
        completed = True
        state.streams.ended(record, completed=True)
        _count_delivered(state, attempt_key)
        if fault is not None and fault.kind == "keepalive_after_done":
            while True:  # until the client hangs up (the server then cancels this)
                await asyncio.sleep(fault.seconds)
                yield b": keep-alive\n\n"
    except (asyncio.CancelledError, GeneratorExit):
        # The client went away mid-answer (Starlette cancels the body on disconnect).
        if request_id and not completed:
            state.requests.mark_closed_early(request_id)
        raise
    finally:
        state.streams.ended(record, completed=completed)


def _count_delivered(state: EmulatorState, key: str) -> None:
    if key:
        state.attempts[key] = state.attempts.get(key, 0) + 1


async def chat(request: Request, state: EmulatorState, fault: Fault | None) -> Response:
    """``POST /v1/chat``: validate, answer from the bot's persona, bill the ledger."""
    try:
        body: ChatBody = await _parse(request, ChatBody)
    except ValidationError as err:
        return _detail(422, error_detail(err))
    bot = find_bot(uid=body.bot_uid) if body.bot_uid is not None else find_bot(slug=body.bot_slug)
    if bot is None:
        return _detail(404, "Bot not found")
    if body.messages is not None:
        messages = tuple(ChatMessage(m.role, m.content) for m in body.messages)
    else:
        messages = (ChatMessage("user", body.prompt or ""),)
    chat_input = ChatInput(
        messages=messages,
        language=body.language,
        max_words=body.max_words,
        use_search=bool(body.use_search),
        assumptions=body.assumptions,
        words=state.answer_words,
        shape=state.answer_shape,
    )
    key = attempt_key(bot.slug, chat_input, body.user_id) if body.stream else ""
    answer = build_answer(bot, replace(chat_input, attempt=state.attempts.get(key, 0)))
    # Billed when the answer is produced, as the service does; a dropped stream still counts.
    state.ledger.add(body.user_id if body.user_id is not None else 0, _usage_of(answer))
    if not body.stream:
        return JSONResponse({"content": answer.text})
    prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
    record = state.streams.start(request.state.request_id, prompt, answer.text)
    return StreamingResponse(
        _sse(state, split_pieces(answer.text), fault, record, key, request.state.request_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def usage_statistics(request: Request, state: EmulatorState, fault: Fault | None) -> Response:
    """``POST /v1/user/usage-statistics`` from the ledger."""
    try:
        body: StatisticsBody = await _parse(request, StatisticsBody)
    except ValidationError as err:
        return _detail(422, error_detail(err))
    return JSONResponse(state.ledger.statistics(body.user_id, body.start_date, body.end_date))


# --- control endpoints ----------------------------------------------------------------


def _control(
    handler: Callable[[Request, EmulatorState], Awaitable[Response]], state: EmulatorState
) -> Any:
    async def endpoint(request: Request) -> Response:
        host = request.client.host if request.client else ""
        if host not in LOOPBACK_HOSTS:
            return _detail(403, "The emulator control API answers loopback clients only")
        if state.control_secret is not None:
            given = request.headers.get(CONTROL_SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), state.control_secret.encode()):
                return _detail(403, f"The emulator control API needs {CONTROL_SECRET_HEADER}")
        return await handler(request, state)

    return endpoint


async def add_fault(request: Request, state: EmulatorState) -> Response:
    """``POST /_emulator/faults`` with the JSON of a Fault."""
    try:
        fault = Fault.from_json(json.loads(await request.body() or b"null"))
    except ValueError as err:
        return _detail(422, str(err))
    state.faults.add(fault)
    return JSONResponse(fault.to_json(), status_code=201)


async def list_faults(request: Request, state: EmulatorState) -> Response:
    """``GET /_emulator/faults``: the faults still queued."""
    return JSONResponse([f.to_json() for f in state.faults.list()])


async def clear_faults(request: Request, state: EmulatorState) -> Response:
    """``DELETE /_emulator/faults``."""
    state.faults.clear()
    return Response(status_code=204)


async def list_requests(request: Request, state: EmulatorState) -> Response:
    """``GET /_emulator/requests``: every recorded request, oldest first."""
    return JSONResponse([r.to_json() for r in state.requests.list()])


async def clear_requests(request: Request, state: EmulatorState) -> Response:
    """``DELETE /_emulator/requests``."""
    state.requests.clear()
    state.attempts.clear()
    return Response(status_code=204)


async def list_streams(request: Request, state: EmulatorState) -> Response:
    """``GET /_emulator/streams``: every streamed answer and its timings, oldest first."""
    return JSONResponse([r.to_json() for r in state.streams.list()])


async def clear_streams(request: Request, state: EmulatorState) -> Response:
    """``DELETE /_emulator/streams``."""
    state.streams.clear()
    return Response(status_code=204)


def _inflight_json(state: EmulatorState) -> dict[str, int]:
    now, most = state.inflight.snapshot()
    return {"chats": now, "max_chats": most}


async def get_inflight(request: Request, state: EmulatorState) -> Response:
    """``GET /_emulator/inflight``: ``{"chats": now, "max_chats": most at once}``."""
    return JSONResponse(_inflight_json(state))


async def reset_inflight(request: Request, state: EmulatorState) -> Response:
    """``DELETE /_emulator/inflight``: count the most at once afresh."""
    state.inflight.reset()
    return JSONResponse(_inflight_json(state))


def _settings_json(state: EmulatorState) -> dict[str, Any]:
    return {
        "delay": state.delay,
        "answer_words": state.answer_words,
        "answer_shape": state.answer_shape,
    }


async def get_settings(request: Request, state: EmulatorState) -> Response:
    """``GET /_emulator/settings``: ``{"delay": seconds, "answer_words": int | null}``."""
    return JSONResponse(_settings_json(state))


async def put_settings(request: Request, state: EmulatorState) -> Response:
    """``PUT /_emulator/settings`` with any of ``delay`` (seconds, >= 0) and
    ``answer_words`` (int >= 1, or null for the persona's length) and
    ``answer_shape`` (one of ``answers.SHAPES``); 422 otherwise."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return _detail(422, "The body must be a JSON object")
    if not isinstance(body, dict) or not set(body) <= {"delay", "answer_words", "answer_shape"}:
        return _detail(422, "Expected an object with 'delay' and/or 'answer_words'")
    delay = body.get("delay", state.delay)
    words = body.get("answer_words", state.answer_words)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        return _detail(422, "'delay' must be a number of seconds >= 0")
    if words is not None and (isinstance(words, bool) or not isinstance(words, int) or words < 1):
        return _detail(422, "'answer_words' must be an integer >= 1 or null")
    shape = body.get("answer_shape", state.answer_shape)
    if shape not in SHAPES:
        return _detail(422, f"'answer_shape' must be one of {', '.join(SHAPES)}")
    state.delay = float(delay)
    state.answer_words = words
    state.answer_shape = shape
    return JSONResponse(_settings_json(state))


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI-style JSON for routing errors (404 unknown path, 405 wrong method)."""
    assert isinstance(exc, HTTPException)
    return _detail(exc.status_code, exc.detail, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    return _detail(500, "Internal Server Error")


def create_app(state: EmulatorState) -> ASGIApp:
    """The ASGI app for one emulator instance."""
    install_log_filter()
    routes = [
        Route("/health-check", _api(state, health_check, auth=False), methods=["GET"]),
        Route("/avatars/{filename}", _api(state, avatar, auth=False), methods=["GET"]),
        Route("/v1/bots", _api(state, list_bots), methods=["GET"]),
        Route("/v1/chat", _api(state, chat), methods=["POST"]),
        Route("/v1/user/usage-statistics", _api(state, usage_statistics), methods=["POST"]),
        Route(f"{CONTROL_PREFIX}faults", _control(add_fault, state), methods=["POST"]),
        Route(f"{CONTROL_PREFIX}faults", _control(list_faults, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}faults", _control(clear_faults, state), methods=["DELETE"]),
        Route(f"{CONTROL_PREFIX}requests", _control(list_requests, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}requests", _control(clear_requests, state), methods=["DELETE"]),
        Route(f"{CONTROL_PREFIX}streams", _control(list_streams, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}streams", _control(clear_streams, state), methods=["DELETE"]),
        Route(f"{CONTROL_PREFIX}settings", _control(get_settings, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}inflight", _control(get_inflight, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}inflight", _control(reset_inflight, state), methods=["DELETE"]),
        Route(f"{CONTROL_PREFIX}settings", _control(put_settings, state), methods=["PUT"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    return RequestIdMiddleware(ChatCounter(app, state.inflight))
