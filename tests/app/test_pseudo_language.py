"""A pseudo-language ("xx") over every page: any text shown outside its markers
was never passed through the translation helper.

The catalog is made from webapp/locales/messages.pot at test time: each
message becomes "⟦" + the message + "⟧" (placeholders kept), so a rendered
string is fine when, once every marked part is taken out, nothing is left but
things that are not ours: bot names and descriptions, member names, numbers,
dates, punctuation and Markdown. Dates and numbers are checked elsewhere.
Tables' column headers (their `column_config` labels, else the frame's column
names) and charts' titles (axes, legends, tooltips) are read too.
"""

from __future__ import annotations

import gettext
import html
import io
import json
import re
from collections.abc import Callable, Iterator

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from ablt_core.emulator.bots import BOTS
from webapp.conversations.store import ConversationStore
from webapp.feedback.store import FeedbackStore
from webapp.team import DEMO_MEMBERS, DEMO_PASSWORD, MemberStore
from webapp.ui import i18n

from .conftest import log_in
from .test_arena_page import _vote_many
from .test_chat_page import conversation, send

OPEN, CLOSE = "⟦", "⟧"
PSEUDO = "xx"
PAGES = (
    "views/chat.py",
    "views/bots.py",
    "views/compare.py",
    "views/arena.py",
    "views/evaluations.py",
    "views/library.py",
    "views/shared.py",
    "views/statistics.py",
    "views/account.py",
    "views/team.py",
)
# Element kinds and what of them a reader sees.
TEXT_KINDS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "info",
    "warning",
    "error",
    "success",
)
LABEL_KINDS = (
    "button",
    "text_input",
    "text_area",
    "selectbox",
    "multiselect",
    "radio",
    "checkbox",
    "toggle",
    "number_input",
    "expander",
    "tabs",
    "metric",
)


def pseudo_catalog() -> gettext.GNUTranslations:
    """Every message of the template, wrapped in the markers."""
    with (i18n.LOCALES_DIR / "messages.pot").open("rb") as source:
        template = read_po(source)
    catalog = Catalog(locale="en")
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(OPEN + form + CLOSE for form in message.id))
        else:
            catalog.add(message.id, OPEN + message.id + CLOSE)
    out = io.BytesIO()
    write_mo(out, catalog)
    return gettext.GNUTranslations(io.BytesIO(out.getvalue()))


@pytest.fixture
def pseudo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The browser asks for the pseudo-language (so does the login page)."""
    i18n.register(PSEUDO, pseudo_catalog())
    monkeypatch.setattr(i18n, "browser_locale", lambda: PSEUDO)
    yield
    i18n._extra.pop(PSEUDO, None)
    i18n.translations.cache_clear()


def not_ours() -> list[str]:
    """Text that is data, not the product's words: longest first."""
    names = [b.name for b in BOTS] + [b.description for b in BOTS]
    names += [b.welcome_message for b in BOTS] + [b.slug for b in BOTS] + [b.model for b in BOTS]
    names += (
        [m[1] for m in DEMO_MEMBERS] + [m[0] for m in DEMO_MEMBERS] + [m[2] for m in DEMO_MEMBERS]
    )
    names += ["aBLT"]
    return sorted({n for n in names if n}, key=len, reverse=True)


_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_WORD = re.compile(r"[^\W\d_]{2,}")


def unwrapped(text: str, data: list[str]) -> str:
    """What of `text` is left once the marked parts and the data are taken out."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text.replace("\\", "")))  # Markdown, HTML
    text = re.sub(r"^> ", "", text, flags=re.M)  # a quoted welcome message
    text = " ".join(text.split())
    while True:
        stripped = _MARKED.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    for item in data:
        text = text.replace(" ".join(item.split()), " ")
    text = re.sub(r":material/[a-z_]+:", " ", text)
    text = re.sub(r":[a-z]+(-badge|-background)?\[", " ", text)  # Streamlit's coloured text
    text = re.sub(r"https?://\S+", " ", text)
    return text


def shown_texts(at: AppTest) -> list[str]:
    texts: list[str] = []
    for kind in TEXT_KINDS:
        texts += [str(e.value) for e in getattr(at, kind)]
    for kind in LABEL_KINDS:
        for element in getattr(at, kind):
            texts.append(str(element.label))
            help_text = getattr(element, "help", None)
            if help_text:
                texts.append(str(help_text))
    texts += [str(e.placeholder) for e in at.chat_input if e.placeholder]
    texts += table_headers(at) + chart_titles(at)
    return texts


def table_headers(at: AppTest) -> list[str]:
    """Every shown column header of every table: its `column_config` label,
    else the frame's column name (hidden columns and the index left out)."""
    headers: list[str] = []
    for table in at.dataframe:
        config = json.loads(table.proto.columns or "{}")
        order = list(table.proto.column_order) or [str(c) for c in table.value.columns]
        for name in order:
            entry = config.get(name, {})
            if name != "_index" and not entry.get("hidden"):
                headers.append(str(entry.get("label") or name))
    return headers


def _titles(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                yield value
            elif key == "title" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from _titles(value)
    elif isinstance(node, list):
        for item in node:
            yield from _titles(item)


def chart_titles(at: AppTest) -> list[str]:
    """Every title in every chart's Vega-Lite spec (axes, legends, tooltips);
    a tooltip or axis without one shows its field's name, so that is read too."""
    found: list[str] = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        found += [t for t in _titles(spec) if t.strip()]
        found += list(_untitled_fields(spec))
    return found


def _untitled_fields(node: object) -> Iterator[str]:
    # An encoding channel shown to the reader (axis, legend, tooltip) with no
    # title shows its field's name: the frame's English column.
    if isinstance(node, dict):
        encoding = node.get("encoding")
        if isinstance(encoding, dict):
            for channel, value in encoding.items():
                items = value if isinstance(value, list) else [value]
                for item in items:
                    if (
                        channel in ("x", "y", "color", "tooltip")
                        and isinstance(item, dict)
                        and "field" in item
                        and "title" not in item
                    ):
                        yield str(item["field"])
        for key, value in node.items():
            if key != "encoding":
                yield from _untitled_fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from _untitled_fields(item)


def untranslated(at: AppTest) -> list[str]:
    data = not_ours()
    return sorted({t for t in shown_texts(at) if _WORD.search(unwrapped(t, data))})


@pytest.mark.usefixtures("demo_env", "pseudo")
def test_the_login_page_has_no_untranslated_text(new_app: Callable[[], AppTest]) -> None:
    at = new_app().run()
    assert not at.exception
    assert untranslated(at) == []


def seed_tables(new_app: Callable[[], AppTest], store: ConversationStore) -> None:
    """Arena votes and a thumbs up (as a member, in English), so the
    leaderboard and the Satisfaction tables and charts are drawn."""
    member_at = log_in(new_app().run(), "demo-member", DEMO_PASSWORD)
    send(member_at, "Name a colour")
    team = MemberStore(store.engine)
    member = team.get("demo-member")
    assert member is not None
    answer = conversation(member_at).messages[-1]
    FeedbackStore(store).give(member, answer.id, True)
    _vote_many(store, team)


@pytest.mark.usefixtures("demo_env", "pseudo")
def test_every_page_has_no_untranslated_text(
    new_app: Callable[[], AppTest], app_store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "browser_locale", lambda: "en")
    seed_tables(new_app, app_store)
    monkeypatch.setattr(i18n, "browser_locale", lambda: PSEUDO)
    at = new_app().run()
    # The login form is ours: its labels are translated too.
    fields = {t.label: t for t in at.text_input}
    assert set(fields) == {OPEN + "Username" + CLOSE, OPEN + "Password" + CLOSE}
    at.text_input[0].input("demo-admin")
    at.text_input[1].input(DEMO_PASSWORD)
    next(b for b in at.button if b.label == OPEN + "Log in" + CLOSE).click()
    at.run()
    assert not at.exception, at.exception
    found: dict[str, list[str]] = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        left = untranslated(at)
        if left:
            found[page] = left
    assert found == {}, "\n".join(f"{page}: {texts}" for page, texts in found.items())
