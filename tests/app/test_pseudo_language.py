"""A pseudo-language ("xx") over every page: any text shown outside its markers
was never passed through the translation helper.

The catalog is made from webapp/locales/messages.pot at test time: each
message becomes "⟦" + the message + "⟧" (placeholders kept), so a rendered
string is fine when, once every marked part is taken out, nothing is left but
things that are not ours: bot names and descriptions, member names, numbers,
dates, punctuation and Markdown. Dates and numbers are checked elsewhere.
"""

from __future__ import annotations

import gettext
import html
import io
import re
from collections.abc import Callable, Iterator

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from ablt_core.emulator.bots import BOTS
from webapp.team import DEMO_MEMBERS, DEMO_PASSWORD
from webapp.ui import i18n

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
    return texts


def untranslated(at: AppTest) -> list[str]:
    data = not_ours()
    return sorted({t for t in shown_texts(at) if _WORD.search(unwrapped(t, data))})


@pytest.mark.usefixtures("demo_env", "pseudo")
def test_the_login_page_has_no_untranslated_text(new_app: Callable[[], AppTest]) -> None:
    at = new_app().run()
    assert not at.exception
    assert untranslated(at) == []


@pytest.mark.usefixtures("demo_env", "pseudo")
def test_every_page_has_no_untranslated_text(new_app: Callable[[], AppTest]) -> None:
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
