"""An aBLT-compatible HTTP server on loopback: the embedded default and the test double.

It speaks ``ablt-api.md`` exactly (``/health-check``, ``/v1/bots``, ``/v1/chat``
streamed and not, ``/v1/user/usage-statistics``), serves its bots' avatars at
``/avatars/{slug}.svg``, keeps a usage ledger, records every request and can
inject faults, so every client path can be driven end to end over real sockets.

Run it::

    python -m ablt_core.emulator --port 8765 [--host 127.0.0.1] [--delay 0.03] [--token T]

or from Python::

    from ablt_core.emulator import Fault, start_emulator

    with start_emulator(delay=0, token="test-token") as emu:   # port=0: a free port
        emu.base_url                          # "http://127.0.0.1:54321"
        emu.inject(Fault(kind="rate_limit", retry_after=1.0))
        emu.requests                          # what arrived (Authorization removed)
        emu.usage(user_id=-1)                 # today's statistics, as the endpoint says

Auth: every call except ``/health-check``, ``/avatars/*`` and ``/_emulator/*``
needs ``Authorization: Bearer <token>``. Missing or empty: 401. With a token
configured, any other token: 401. Without one, any non-empty token is accepted.

Fault injection
---------------
A fault is ``Fault(kind, path="/v1/chat", times=1, **params)``. Each request
takes the first queued fault that matches its path (``path="*"`` matches any
path) and counts its ``times`` down; at zero the fault is gone (``times=None``:
until cleared). Faults are queued in order, so ``rate_limit`` then
``server_error`` hits the first request with a 429 and its retry with a 500.

=================  ==========================================================
kind               effect (parameters, defaults)
=================  ==========================================================
rate_limit         429 ``{"detail": ...}`` with ``Retry-After: <retry_after>``
                   (``retry_after=1.0``; ``None`` sends no header)
server_error       ``status`` (500; 502/503/504 too) ``{"detail": ...}``
unauthorized       401 ``{"detail": "Invalid token"}`` whatever the token
drop_stream        a streamed chat sends ``after_pieces`` (3) non-empty pieces,
                   then ends without ``[DONE]`` (``mode="close"``) or aborts
                   the connection mid-body (``mode="abort"``)
malformed_event    a streamed chat emits one ``data: {not json`` event after
                   ``after_pieces`` (3) pieces, then carries on normally
slow_first_byte    sleeps ``seconds`` (1.0) before the response starts
=================  ==========================================================

``drop_stream`` and ``malformed_event`` only match streamed chats (a
non-streamed chat leaves them queued). From Python: ``handle.inject(fault)``,
``handle.clear_faults()``, ``handle.requests``, ``handle.clear_requests()``,
``handle.set_delay(seconds)``. Over HTTP (loopback clients only; with
``start_emulator(control_secret=S)``, as the app's embedded emulator is
started, only with the header ``X-Emulator-Secret: S``; the command line
``python -m ablt_core.emulator`` needs none)::

    curl -X POST localhost:8765/_emulator/faults -d '{"kind": "server_error", "status": 503}'
    curl localhost:8765/_emulator/faults            # what is still queued
    curl -X DELETE localhost:8765/_emulator/faults
    curl localhost:8765/_emulator/requests          # recorded requests, oldest first
    curl -X DELETE localhost:8765/_emulator/requests

Benchmarks: ``answer_words`` (``start_emulator(answer_words=N)``, ``--answer-words N``,
``handle.set_answer_words(N)`` or ``PUT /_emulator/settings {"answer_words": N}``)
makes every answer exactly N words, one word per event; ``PUT /_emulator/settings
{"delay": 0.005}`` sets the pace over HTTP, and ``{"answer_shape": "table"}`` lays
such an answer out as one block (``answers.SHAPES``: paragraph, code, table,
list; default paragraphs). ``handle.streams`` / ``GET
/_emulator/streams`` give each streamed answer's prompt, text and the wall-clock
times its first piece and its end were sent (see ``streams``).

Simultaneous use: ``handle.inflight`` / ``GET /_emulator/inflight`` give
``(chats, max_chats)``: the ``/v1/chat`` requests being handled now (from
arrival, a slow first byte included, to the response's end or the client's
leaving) and the most at once; ``handle.reset_inflight()`` / ``DELETE
/_emulator/inflight`` start the most-at-once count afresh.

Usage ledger: see ``ledger`` (seeded history up to yesterday for users 1-3, or
``start_emulator(seed_users=...)``; demo mode seeds only the demo team)
and ``answers`` (words = whitespace-separated runs, tokens = ceil(chars / 4)).
"""

from .bots import BOTS, Bot
from .faults import FAULT_KINDS, Fault, RecordedRequest
from .runner import EmulatorHandle, start_emulator
from .streams import StreamRecord

__all__ = [
    "BOTS",
    "FAULT_KINDS",
    "Bot",
    "EmulatorHandle",
    "Fault",
    "RecordedRequest",
    "StreamRecord",
    "start_emulator",
]
