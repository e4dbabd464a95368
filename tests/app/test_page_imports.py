"""Opening the chat page doesn't import altair (nor `webapp.statistics.usage`);
the Statistics page does.

Streamlit runs a full `gc.collect(2)` after every script run, whose cost grows
with the objects the process tracks: about 77,000 for the chat page's own
modules, 118,000 once numpy, pandas and pyarrow are in, 150,000 with altair
and its schema (issue 8). Only the Statistics page draws charts. pandas itself
cannot be avoided: Streamlit imports numpy, pandas and pyarrow the first time
a custom component is called with a dict argument, which the login cookie's
component (extra-streamlit-components, through streamlit-authenticator) is on
every page. A fresh interpreter runs the real app.py under AppTest (demo mode),
logs in, sends a prompt on the chat page and then opens Statistics, reporting
which of the modules were loaded after each step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("altair", "webapp.statistics.usage")

SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest
from webapp import team
team.BCRYPT_ROUNDS = 4
heavy = %r
loaded = lambda: [name for name in heavy if name in sys.modules]
at = AppTest.from_file("app.py", default_timeout=60).run()
fields = {t.label: t for t in at.text_input}
fields["Username"].input("demo-member")
fields["Password"].input(team.DEMO_PASSWORD)
next(b for b in at.button if b.label == "Log in").click()
at.run()
at.chat_input[0].set_value("Which modules does a chat load?").run()
answers = [m for m in at.chat_message if m.name == "assistant"]
chat = {"loaded": loaded(), "answered": any("Which modules" in m.markdown[0].value
                                            for m in answers if m.markdown),
        "exception": [str(e.value) for e in at.exception]}
at.switch_page("views/statistics.py").run()
stats = {"loaded": loaded(), "exception": [str(e.value) for e in at.exception]}
print(json.dumps({"chat": chat, "statistics": stats}))
"""


def test_the_chat_page_loads_without_altair(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ABLT_")}
    env.update(
        ABLT_AUTH_FILE=str(tmp_path / "auth.yaml"),
        ABLT_DB_URL=f"sqlite:///{tmp_path / 'chat.db'}",
        ABLT_EMULATOR_DELAY="0",
        HOME=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT % (HEAVY,)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["chat"]["exception"] == []
    assert report["chat"]["answered"], "the chat page answered the prompt"
    assert report["chat"]["loaded"] == [], "the chat page imported " + ", ".join(
        report["chat"]["loaded"]
    )
    # The check can see them: the Statistics page does load them, and still works.
    assert report["statistics"]["exception"] == []
    assert report["statistics"]["loaded"] == list(HEAVY)
