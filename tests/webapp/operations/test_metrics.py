"""/metrics: the names, values that move as answers run (scraped over HTTP while
an emulator-driven answer streams), and who may read it.

The answer service is a real one on the emulator and a real database; the
routes are served by uvicorn on loopback as `serve.py` mounts them, with the
process's registry and the scrape-time collector installed as `serve.py`
installs them. Counters are compared before and after (other tests of the
process move them too).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from ablt_core.emulator import EmulatorHandle, Fault
from tests.webapp.answer_helpers import until
from tests.webapp.operations.conftest import served
from webapp.answers import AnswerService
from webapp.answers.admission import AdmissionRequest, AnswerRefused
from webapp.answers.slots import holder_id
from webapp.answers.slots_store import SlotBook
from webapp.budgets.check import BudgetGate
from webapp.conversations.store import ConversationStore
from webapp.operations import collect
from webapp.operations.health import Readiness
from webapp.operations.metrics import rule_name
from webapp.operations.routes import build_routes, metrics_access

ANN = type("Member", (), {"username": "ann", "user_id": 42})()
TOKEN = "metrics-token-0123456789"
Sample = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Sample:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    found: Sample = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Sample, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def make_app(services: Callable[[], list[AnswerService]], store: ConversationStore) -> Starlette:
    collect.install(collect.AppCollector(services, lambda: 3, db_every=0))
    return Starlette(
        routes=build_routes(
            readiness=Readiness(lambda: store.engine, services),
            metrics_token=lambda: TOKEN,
            trusted_proxy_hops=lambda: 0,
            metrics_reuse=0,
        )
    )


@pytest.fixture
def service(store: ConversationStore, make_service: Callable[..., AnswerService]) -> AnswerService:
    book = SlotBook(store.engine, holder_id(), configured=4, stale_after=timedelta(seconds=30))
    return make_service(slots=book)


@pytest.fixture
def scrape(service: AnswerService, store: ConversationStore) -> Iterator[Callable[[], Sample]]:
    with served(make_app(lambda: [service], store)) as url:

        def get() -> Sample:
            reply = httpx.get(f"{url}/metrics", timeout=10)
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/plain; version=")
            return parse(reply.text)

        yield get
    collect.install(collect.AppCollector())


def start(service: AnswerService, store: ConversationStore, prompt: str) -> str:
    cid = store.create_conversation(ANN, "omni", "Omni").id
    sent = service.submit(ANN, cid, prompt)
    assert sent.answer_id
    return sent.answer_id


def finish(service: AnswerService, answer_id: str) -> None:
    live = service.live(answer_id)
    assert live is not None and live.wait_done(15)


def test_metrics_move_while_an_answer_streams_and_when_it_ends(
    service: AnswerService,
    store: ConversationStore,
    emulator: EmulatorHandle,
    scrape: Callable[[], Sample],
) -> None:
    before = scrape()
    assert value(before, "ablt_chat_answers_in_progress") == 0
    assert value(before, "ablt_chat_sessions_active") == 3
    assert value(before, "ablt_chat_team_slots_limit") == 4
    emulator.set_delay(0.05)
    answer_id = start(service, store, "Tell me about ferns")
    live = service.live(answer_id)
    assert live is not None
    until(lambda: live.text)

    during = scrape()  # the answer streams now
    assert value(during, "ablt_chat_answers_in_progress") == 1
    assert value(during, "ablt_chat_team_slots_in_use") == 1
    first = "ablt_chat_answer_first_piece_seconds_count"
    assert value(during, first, bot="omni") == value(before, first, bot="omni") + 1
    whole = "ablt_chat_answer_duration_seconds_count"
    assert value(during, whole, bot="omni") == value(before, whole, bot="omni")

    emulator.set_delay(0)
    finish(service, answer_id)
    after = scrape()
    assert value(after, "ablt_chat_answers_in_progress") == 0
    assert value(after, "ablt_chat_team_slots_in_use") == 0
    done = "ablt_chat_answers_finished_total"
    assert value(after, done, status="complete") == value(before, done, status="complete") + 1
    assert value(after, whole, bot="omni") == value(before, whole, bot="omni") + 1
    assert value(after, "ablt_chat_answer_duration_seconds_sum", bot="omni") > value(
        before, "ablt_chat_answer_duration_seconds_sum", bot="omni"
    )


def test_api_errors_retries_and_the_429_backoff_are_counted(
    service: AnswerService,
    store: ConversationStore,
    emulator: EmulatorHandle,
    scrape: Callable[[], Sample],
) -> None:
    before = scrape()
    errors, retries = "ablt_chat_api_errors_total", "ablt_chat_api_retries_total"
    # A 502 on every attempt: retried, then the answer fails.
    emulator.inject(Fault(kind="server_error", status=502, times=None))
    finish(service, start(service, store, "Hello?"))
    emulator.clear_faults()
    # A 429 asking for an hour: not waited for; the team's limit backs off.
    emulator.inject(Fault(kind="rate_limit", retry_after=3600, times=1))
    finish(service, start(service, store, "Hello again?"))

    after = scrape()
    labels_502 = {"status": "502", "kind": "internal_server"}
    assert value(after, errors, **labels_502) == value(before, errors, **labels_502) + 1
    assert value(after, retries, **labels_502) == value(before, retries, **labels_502) + 2
    labels_429 = {"status": "429", "kind": "rate_limit"}
    assert value(after, errors, **labels_429) == value(before, errors, **labels_429) + 1
    done = "ablt_chat_answers_finished_total"
    assert value(after, done, status="error") == value(before, done, status="error") + 2
    until(lambda: value(scrape(), "ablt_chat_team_slots_backoff_active") == 1)
    assert value(scrape(), "ablt_chat_team_slots_limit") == 1


def test_a_refusal_at_admission_is_counted_by_rule(
    store: ConversationStore,
    make_service: Callable[..., AnswerService],
) -> None:
    class Spent:
        metric_name = "budget"

        def __call__(self, request: AdmissionRequest) -> str | None:
            return "This month's budget is used up."

    service = make_service(rules=[Spent()])
    with served(make_app(lambda: [service], store)) as url:
        name = "ablt_chat_answers_refused_total"
        before = value(parse(httpx.get(f"{url}/metrics").text), name, rule="budget")
        cid = store.create_conversation(ANN, "omni", "Omni").id
        with pytest.raises(AnswerRefused):
            service.submit(ANN, cid, "One more?")
        after = value(parse(httpx.get(f"{url}/metrics").text), name, rule="budget")
    collect.install(collect.AppCollector())
    assert after == before + 1
    assert rule_name(BudgetGate) == "budget"  # the app's budget rule has that label


def test_every_metric_is_named_by_the_conventions(scrape: Callable[[], Sample]) -> None:
    names = {name for name, _ in scrape()}
    expected = {
        "ablt_chat_answers_in_progress",
        "ablt_chat_answers_waiting_for_team_slot",
        "ablt_chat_answers_waiting_for_worker",
        "ablt_chat_prompts_queued",
        "ablt_chat_team_slots_in_use",
        "ablt_chat_team_slots_limit",
        "ablt_chat_team_slots_backoff_active",
        "ablt_chat_sessions_active",
        "ablt_chat_answers_finished_total",
        "ablt_chat_login_failures_total",
        "ablt_chat_logins_total",
        "ablt_chat_answers_refused_total",
        "ablt_chat_database_up",
    }
    assert expected <= names
    assert all(name.startswith("ablt_chat_") for name in names)
    assert not any(name.endswith("_created") for name in names)


def test_no_limit_is_reported_as_infinity(
    store: ConversationStore, make_service: Callable[..., AnswerService]
) -> None:
    service = make_service()
    with served(make_app(lambda: [service], store)) as url:
        samples = parse(httpx.get(f"{url}/metrics").text)
    collect.install(collect.AppCollector())
    assert math.isinf(value(samples, "ablt_chat_team_slots_limit"))


# -- who may read it ---------------------------------------------------------------------


def asgi_get(app: Starlette, client: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A request to the ASGI app as if from `client` (its peer address)."""

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return await http.get("/metrics", headers=headers or {})

    return asyncio.run(get())


@pytest.fixture
def app(store: ConversationStore) -> Iterator[Starlette]:
    yield make_app(lambda: [], store)
    collect.install(collect.AppCollector())


def test_a_client_from_outside_without_the_token_is_refused(app: Starlette) -> None:
    refused = asgi_get(app, "203.0.113.9")
    assert refused.status_code == 403
    assert "ablt_chat" not in refused.text
    wrong = asgi_get(app, "203.0.113.9", {"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    allowed = asgi_get(app, "203.0.113.9", {"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and "ablt_chat_logins_total" in allowed.text
    assert asgi_get(app, "127.0.0.1").status_code == 200
    assert asgi_get(app, "::1").status_code == 200


def test_a_proxied_request_is_not_loopback_unless_the_proxy_is_trusted(app: Starlette) -> None:
    # nginx on the same host: the peer is loopback, the client is not.
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert asgi_get(app, "127.0.0.1", forwarded).status_code == 403
    # A client cannot claim to be loopback through the header either.
    assert asgi_get(app, "203.0.113.9", {"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_access_with_trusted_proxy_hops() -> None:
    # One trusted proxy: the client is the last X-Forwarded-For entry.
    assert metrics_access("127.0.0.1", {"x-forwarded-for": "203.0.113.9"}, None, 1) == 403
    assert metrics_access("127.0.0.1", {"x-forwarded-for": "127.0.0.1"}, None, 1) == 200
    # What the client put further left is not trusted.
    spoofed = {"x-forwarded-for": "127.0.0.1, 203.0.113.9"}
    assert metrics_access("127.0.0.1", spoofed, None, 1) == 403
    assert metrics_access("127.0.0.1", {}, None, 1) == 200  # scraped directly, not proxied
    assert metrics_access("10.0.0.5", {}, None, 0) == 403
    assert metrics_access("10.0.0.5", {"authorization": f"Bearer {TOKEN}"}, TOKEN, 0) == 200
    assert metrics_access("10.0.0.5", {"authorization": f"bearer {TOKEN}"}, TOKEN, 0) == 200
    assert metrics_access("10.0.0.5", {"authorization": f"Bearer {TOKEN}"}, None, 0) == 403


def test_a_bot_catalogue_error_is_counted_and_logged_with_its_request_id(
    emulator: EmulatorHandle, test_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    from ablt_core import AbltClient, AbltError
    from webapp.bots import catalogue
    from webapp.operations.metrics import REGISTRY

    labels = {"status": "503", "kind": "internal_server"}
    name = "ablt_chat_api_errors_total"
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    emulator.inject(Fault(kind="server_error", status=503, path="/v1/bots"))
    with (
        AbltClient(test_token, emulator.base_url, max_retries=0) as client,
        caplog.at_level("WARNING", logger="webapp.operations.metrics"),
        pytest.raises(AbltError),
    ):
        # Another test in this process may have cached this emulator's bots.
        catalogue.refresh_bots(client)
        catalogue.load_bots(client)
    assert REGISTRY.get_sample_value(name, labels) == before + 1
    request_id = [r.request_id for r in emulator.requests if r.path == "/v1/bots"][-1]
    assert any(
        "call=bots" in r.getMessage() and f"request_id={request_id}" in r.getMessage()
        for r in caplog.records
    )
