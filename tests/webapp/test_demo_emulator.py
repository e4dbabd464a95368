"""Demo mode (issue 12): the app's embedded emulator keeps its request log (members'
prompts) and fault injection to whoever holds the process's secret; the standalone
emulator keeps them open to loopback clients for tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from ablt_core import AbltClient
from ablt_core.emulator import start_emulator
from ablt_core.emulator.server import CONTROL_SECRET_HEADER
from webapp import backend
from webapp.conversations.store import ConversationStore
from webapp.team import DEMO_MEMBERS, open_team

PROMPT = "my salary is 123456, is that fair?"


def test_the_embedded_emulator_answers_control_calls_only_with_the_secret() -> None:
    handle = backend.ensure_demo_emulator(0)
    assert handle.host == "127.0.0.1"  # loopback only
    with AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=handle.base_url) as client:
        client.chat(bot_slug="omni", prompt=PROMPT, stream=False)
    url = handle.base_url + "/_emulator/requests"

    anyone = httpx.get(url)
    assert anyone.status_code == 403 and PROMPT not in anyone.text
    guess = httpx.get(url, headers={CONTROL_SECRET_HEADER: "guess"})
    assert guess.status_code == 403
    fault = httpx.post(handle.base_url + "/_emulator/faults", json={"kind": "server_error"})
    assert fault.status_code == 403 and handle.faults == []

    allowed = httpx.get(url, headers={CONTROL_SECRET_HEADER: backend.demo_control_secret()})
    assert allowed.status_code == 200 and PROMPT in allowed.text
    handle.clear_requests()


def test_the_standalone_emulator_keeps_its_control_routes_open_to_loopback() -> None:
    with start_emulator(delay=0) as emulator:
        assert httpx.get(emulator.base_url + "/_emulator/requests").status_code == 200
        posted = httpx.post(
            emulator.base_url + "/_emulator/faults", json={"kind": "server_error", "status": 503}
        )
        assert posted.status_code == 201 and len(emulator.faults) == 1


def test_only_the_demo_team_has_usage_history_so_a_member_added_later_starts_at_zero(
    tmp_path: Path,
) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'demo.db'}")
    team = open_team(store.engine, tmp_path / "no-auth-file.yaml", demo_mode=True)
    newcomer = team.add("newcomer", name="New Comer", email="new@example.com", password="x" * 12)
    start = dt.date.today() - dt.timedelta(days=60)
    # An emulator of its own, started as demo mode starts one: the process-wide
    # one has answered other tests' members (any user id) by now.
    with (
        backend.start_demo_emulator(0) as handle,
        AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=handle.base_url) as client,
    ):
        for username, _, _, _ in DEMO_MEMBERS:
            member = team.get(username)
            assert member is not None
            history = client.get_usage_statistics(start_date=start, user_id=member.user_id)
            assert history.total.original_words > 0, username
        fresh = client.get_usage_statistics(start_date=start, user_id=newcomer.user_id)
    assert fresh.total.original_words == 0 and fresh.items == []
    store.close()
