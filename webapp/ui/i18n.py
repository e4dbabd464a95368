"""The one translation helper: gettext catalogs (Babel) and the member's locale.

Every string the product shows goes through `_()` (or `ngettext()` when it
has a count), with placeholders filled after translation, the gettext way:
`_("Deleted in {days} days").format(days=n)`. A string defined before any
page runs (a module constant) is marked with `N_()` so `pybabel extract`
finds it, and translated where it is shown: `_(API_DOWN_MESSAGE)`.

Catalogs: `webapp/locales/<locale>/LC_MESSAGES/messages.po` (sources, in
git) from `webapp/locales/messages.pot` (`pybabel extract -F babel.cfg`,
see docs/architecture.md). The `.mo` files are compiled here, in-process
(`babel.messages.mofile`), the first time a process needs a language and
its `.mo` is missing or older than its `.po`: a fresh clone needs no build
step. They are not committed.

The language of a session (`Keys.LOCALE`, set by `use_locale` at the top of
every run): the member's stored choice, else the browser's
(`st.context.locale`, an Accept-Language tag such as "de-DE"), else English.
Outside a Streamlit run (the CLI, tests of plain functions) it is English.

Dates and numbers go through Babel in that locale (`format_number`,
`format_date`...): "1.234" in German, "12 déc." in French. CSV downloads do
not use these: they keep machine-readable numbers and ISO dates.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Final

import streamlit as st
from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from streamlit.runtime.scriptrunner import get_script_run_ctx

from webapp.ui import assets
from webapp.ui.state import Keys
from webapp.ui.styles import DIRECTION_KEY
from webapp.ui.types import ColumnConfig

log = logging.getLogger(__name__)

LOCALES_DIR: Final = Path(__file__).resolve().parent.parent / "locales"
DOMAIN: Final = "messages"
SOURCE_LOCALE: Final = "en"  # the msgids are English

# Every language with a catalog, by its own name (the Account page's selector).
LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "ar": "العربية",
}
# The languages offered: complete catalogs only (tests/webapp/ui/test_catalogs.py).
SHIPPED: Final[tuple[str, ...]] = ("en", "de", "fr", "es", "pt_BR", "ar")
RIGHT_TO_LEFT: Final = frozenset({"ar"})

# Catalogs registered at run time (the tests' pseudo-language "xx").
_extra: dict[str, gettext.NullTranslations] = {}
_compile_lock = threading.Lock()


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it (a module constant
    translated where it is shown)."""
    return message


def po_path(locale: str, folder: Path = LOCALES_DIR) -> Path:
    """Where `locale`'s catalog source is."""
    return folder / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def compiled(po: Path) -> bytes:
    """The `.mo` bytes of the catalog `po` (fuzzy entries left out, as gettext does)."""
    with po.open("rb") as source:
        catalog = read_po(source)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def compile_if_stale(po: Path) -> bytes:
    """The `.mo` bytes for `po`, compiled and written next to it when the `.mo`
    is missing or older than the `.po` (atomically: another session may be
    reading it). A read-only install still gets the bytes, compiled in memory."""
    mo = po.with_suffix(".mo")
    with _compile_lock:
        try:
            if mo.stat().st_mtime >= po.stat().st_mtime:
                return mo.read_bytes()
        except FileNotFoundError:
            pass
        data = compiled(po)
        try:
            handle, temp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, mo)
        except OSError:
            log.warning("Could not write %s; using the catalog compiled in memory", mo)
        return data


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog of `locale`: English (the msgids themselves) when it has none."""
    if locale in _extra:
        return _extra[locale]
    po = po_path(locale)
    if locale == SOURCE_LOCALE or not po.exists():
        return gettext.NullTranslations()
    return gettext.GNUTranslations(io.BytesIO(compile_if_stale(po)))


def register(locale: str, catalog: gettext.NullTranslations) -> None:
    """Offer `catalog` as `locale` in this process (the tests' pseudo-language)."""
    _extra[locale] = catalog
    translations.cache_clear()


def available() -> tuple[str, ...]:
    """The languages a session may use: the shipped ones and any registered."""
    return (*SHIPPED, *_extra)


def match_locale(tag: str | None, offered: tuple[str, ...] | None = None) -> str | None:
    """The offered locale that fits a browser's language `tag` ("de-DE",
    "pt-BR", "fr"), or None: the exact one first, else the same language
    ("de-AT" gets "de", "pt-PT" gets "pt_BR")."""
    offered = available() if offered is None else offered
    if not tag:
        return None
    wanted = tag.strip().replace("-", "_")
    if wanted in offered:
        return wanted
    language = wanted.split("_")[0].lower()
    for locale in offered:
        if locale.split("_")[0].lower() == language:
            return locale
    return None


def choose_locale(chosen: str | None, browser: str | None) -> str:
    """A session's language: the member's `chosen` one if offered, else the
    `browser`'s, else English."""
    if chosen and chosen in available():
        return chosen
    return match_locale(browser) or SOURCE_LOCALE


def browser_locale() -> str | None:
    """The browser's preferred language tag (`st.context.locale`), if it said."""
    try:
        return st.context.locale
    except Exception:
        return None


def use_locale(chosen: str | None = None) -> str:
    """Set this session's language from the member's `chosen` one (None on the
    login page) and the browser's; returns it. Call at the top of every run."""
    locale = choose_locale(chosen, browser_locale())
    st.session_state[Keys.LOCALE] = locale
    return locale


def current_locale() -> str:
    """This session's language (English outside a Streamlit run)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return SOURCE_LOCALE
    locale = st.session_state.get(Keys.LOCALE)
    return locale if isinstance(locale, str) else SOURCE_LOCALE


def _(message: str) -> str:
    """`message` in this session's language."""
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of `singular`/`plural` for the count `n` in this session's
    language (its own plural rules: Arabic has six forms)."""
    return translations(current_locale()).ngettext(singular, plural, n)


def is_right_to_left(locale: str | None = None) -> bool:
    """Whether `locale` (this session's by default) is written right to left."""
    return (locale or current_locale()).split("_")[0] in RIGHT_TO_LEFT


def babel_locale(locale: str | None = None) -> Locale:
    """The Babel locale for formatting (English for a pseudo-language)."""
    try:
        return Locale.parse(locale or current_locale())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LOCALE)


def format_number(value: float, *, locale: str | None = None) -> str:
    """`value` with the locale's digit grouping and decimal sign ("1.234,5" in German)."""
    return numbers.format_decimal(value, locale=babel_locale(locale))


def format_percent(value: float, *, locale: str | None = None) -> str:
    """`value` (0.25 is 25 %) as the locale writes a percentage."""
    return numbers.format_percent(value, locale=babel_locale(locale))


def format_date(value: date, format: str = "medium", *, locale: str | None = None) -> str:
    """A date as the locale writes it (`format`: short, medium, long, full)."""
    return dates.format_date(value, format=format, locale=babel_locale(locale))


def format_day_month(value: date, *, locale: str | None = None) -> str:
    """Day and month only, abbreviated: "Dec 12", "12 déc.", "12. Dez."."""
    return dates.format_skeleton("MMMd", value, locale=babel_locale(locale))


def format_time(
    value: time | datetime, *, tz: tzinfo | None = None, locale: str | None = None
) -> str:
    """Hours and minutes on the 24-hour clock, as the locale writes them ("14:05")."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return dates.format_skeleton("Hm", value, locale=babel_locale(locale))


def format_datetime(
    value: datetime, format: str = "medium", *, tz: tzinfo | None = None, locale: str | None = None
) -> str:
    """A date and time as the locale writes them, in the time zone `tz`."""
    return dates.format_datetime(value, format=format, tzinfo=tz, locale=babel_locale(locale))


def column_labels(
    labels: Mapping[str, str], config: Mapping[str, ColumnConfig] | None = None
) -> dict[str, ColumnConfig]:
    """`st.dataframe`'s column_config showing each column of `labels` (its
    name in the frame -> its header, marked with `N_`) under its translated
    header, merged with `config`'s entries for the same columns (formats,
    help). The frame keeps its English names: code, tests and the CSV
    downloads look its columns up by them."""
    out = dict(config or {})
    for name, label in labels.items():
        entry = out.get(name)
        if entry is None:
            out[name] = st.column_config.Column(_(label))
        else:
            entry = entry.copy()
            entry["label"] = _(label)
            out[name] = entry
    return out


DIRECTION_SCRIPT: Final = "direction.js"


def direction_html(locale: str) -> str:
    """The script that sets the document's language and direction and gives
    every message's text `dir="auto"` (`assets/direction.js`)."""
    return assets.script_html(
        [DIRECTION_SCRIPT],
        {"lang": locale.replace("_", "-"), "dir": "rtl" if is_right_to_left(locale) else "ltr"},
    )


def draw_direction() -> None:
    """Draw the direction script for this session's language (once per run,
    at the top of the page, always in the same place)."""
    st.html(assets.style_html("direction.css"))
    with st.container(key=DIRECTION_KEY):
        st.html(direction_html(current_locale()), unsafe_allow_javascript=True)
