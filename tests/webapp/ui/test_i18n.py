"""The translation helper: which language a session gets, catalogs compiled at
start, Babel's dates and numbers, the direction script, the stored choice."""

from __future__ import annotations

import gettext
import io
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from tests.pg import BACKENDS, db_url_on
from webapp.conversations.store import ConversationStore
from webapp.team import MemberStore
from webapp.ui import assets, i18n


def test_the_members_choice_wins_over_the_browsers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "SHIPPED", ("en", "de"))
    assert i18n.choose_locale("de", "fr-FR") == "de"
    assert i18n.choose_locale(None, "de-DE") == "de"
    assert i18n.choose_locale(None, "de-AT") == "de"  # the same language, another country
    assert i18n.choose_locale(None, "ja-JP") == "en"  # not offered: English
    assert i18n.choose_locale(None, None) == "en"
    assert i18n.choose_locale("xx-unknown", "de-DE") == "de"  # a stored choice no longer offered


def test_browser_tags_match_offered_locales() -> None:
    offered = ("en", "de", "pt_BR", "ar")
    assert i18n.match_locale("pt-BR", offered) == "pt_BR"
    assert i18n.match_locale("pt-PT", offered) == "pt_BR"
    assert i18n.match_locale("ar-EG", offered) == "ar"
    assert i18n.match_locale("", offered) is None


def test_every_shipped_language_has_a_name_and_a_catalog() -> None:
    assert i18n.SHIPPED[0] == i18n.SOURCE_LOCALE
    for locale in i18n.SHIPPED:
        assert locale in i18n.LANGUAGE_NAMES
        if locale != i18n.SOURCE_LOCALE:
            assert i18n.po_path(locale).exists()


def _po(folder: Path, translated: str) -> Path:
    catalog = Catalog(locale="de")
    catalog.add("Hello", translated)
    po = folder / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as out:
        write_po(out, catalog)
    return po


def test_a_missing_or_stale_mo_is_compiled_at_start(tmp_path: Path) -> None:
    po = _po(tmp_path, "Hallo")
    mo = po.with_suffix(".mo")
    assert not mo.exists()
    assert gettext.GNUTranslations(io.BytesIO(i18n.compile_if_stale(po))).gettext("Hello") == (
        "Hallo"
    )
    assert mo.exists()  # written next to the source, for the next process
    # The .po changes after the .mo was made: compiled again.
    with po.open("wb") as out:
        catalog = Catalog(locale="de")
        catalog.add("Hello", "Guten Tag")
        write_po(out, catalog)
    os.utime(mo, (1, 1))
    data = i18n.compile_if_stale(po)
    assert gettext.GNUTranslations(io.BytesIO(data)).gettext("Hello") == "Guten Tag"
    assert mo.read_bytes() == data


def test_the_shipped_catalogs_compile_and_translate() -> None:
    german = i18n.translations("de")
    assert german.gettext("Language") == "Sprache"
    assert i18n.translations("en").gettext("Language") == "Language"


def test_dates_and_numbers_in_the_locale() -> None:
    assert i18n.format_number(1234, locale="de") == "1.234"
    assert i18n.format_number(1234.5, locale="fr") == "1\u202f234,5"
    assert i18n.format_number(1234, locale="en") == "1,234"
    assert i18n.format_day_month(date(2026, 12, 12), locale="fr") == "12 déc."
    assert i18n.format_day_month(date(2026, 12, 12), locale="de") == "12. Dez."
    noon = datetime(2026, 12, 12, 13, 5, tzinfo=ZoneInfo("UTC"))
    assert i18n.format_time(noon, tz=ZoneInfo("Europe/Berlin"), locale="de") == "14:05"
    assert i18n.format_number(1234, locale="xx") == "1,234"  # a pseudo-language: English


def test_arabic_plural_forms_follow_its_own_rules() -> None:
    catalog = Catalog(locale="ar")
    forms = ("form 0", "form 1", "form 2", "form 3", "form 4", "form 5")
    catalog.add(("{n} word", "{n} words"), forms)
    out = io.BytesIO()
    write_mo(out, catalog)
    arabic = gettext.GNUTranslations(io.BytesIO(out.getvalue()))
    said = [arabic.ngettext("{n} word", "{n} words", n) for n in (0, 1, 2, 5, 11, 100)]
    # Six forms, in Babel's (CLDR's) order: 0, 1, 2, 3-10, 100-102, 11-99.
    assert said == ["form 0", "form 1", "form 2", "form 3", "form 5", "form 4"]


def test_the_direction_script_mirrors_arabic_only() -> None:
    assert '"dir": "rtl"' in i18n.direction_html("ar")
    assert '"lang": "pt-BR"' in i18n.direction_html("pt_BR")
    assert '"dir": "ltr"' in i18n.direction_html("de")
    assert 'setAttribute("dir", "auto")' in i18n.direction_html("en")  # every language


def test_outside_a_run_the_helper_speaks_english() -> None:
    assert i18n.current_locale() == "en"
    assert i18n._("Language") == "Language"
    assert i18n.ngettext("{n} word", "{n} words", 2).format(n=2) == "2 words"


@pytest.fixture(params=BACKENDS)
def team(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemberStore]:
    with db_url_on(request.param, tmp_path, "language") as url, ConversationStore(url) as store:
        yield MemberStore(store.engine)


def test_the_language_is_stored_with_the_member(team: MemberStore) -> None:
    team.add("ann", name="Ann", email="", password="a-long-password-1")
    assert team.get("ann").language is None  # type: ignore[union-attr]
    assert team.set_language("ann", "de").language == "de"
    assert team.get("ann").language == "de"  # type: ignore[union-attr]
    assert team.set_language("ann", None).language is None


def test_the_direction_script_survives_streamlits_sanitiser() -> None:
    # st.html runs its HTML through DOMPurify, which drops a script whose text
    # looks like markup (a "<" before a letter or "/"), even in a comment.
    assert not re.search(r"<[/\w]", assets.text(i18n.DIRECTION_SCRIPT))
