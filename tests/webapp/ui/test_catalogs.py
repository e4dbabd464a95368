"""The catalogs: the template holds every string the code marks, and every
shipped language translates each of them with the same placeholders."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webapp.ui import i18n

REPO = Path(__file__).resolve().parents[3]
POT = i18n.LOCALES_DIR / "messages.pot"
TRANSLATED = [locale for locale in i18n.SHIPPED if locale != i18n.SOURCE_LOCALE]
# {name}, {name!r}, {name:>3}, %(name)s, %s, %d: what must survive translation.
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]+\)[sdif]|%[sdif]")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def placeholders(text: str) -> list[str]:
    """The placeholders of `text`, sorted (a translation may reorder them)."""
    return sorted(_PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


@functools.cache
def extracted() -> frozenset[str]:
    """The msgids in the code now (as `pybabel extract -F babel.cfg -k N_` finds them)."""
    with (REPO / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "N_": None, "ngettext": (1, 2), "gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(found)


def test_the_template_holds_every_marked_string_and_no_other() -> None:
    in_template = {_ids(m)[0] for m in _read(POT) if m.id}
    missing = extracted() - in_template
    stale = in_template - extracted()
    assert not missing, f"run pybabel extract (docs/architecture.md): {sorted(missing)[:10]}"
    assert not stale, f"run pybabel extract: {sorted(stale)[:10]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(locale: str) -> None:
    template = _read(POT)
    catalog = _read(i18n.po_path(locale), locale)
    assert not catalog.obsolete, f"{locale}: obsolete entries {list(catalog.obsolete)[:5]}"
    wanted = {_ids(m)[0] for m in template if m.id}
    have = {_ids(m)[0] for m in catalog if m.id}
    assert wanted - have == set(), f"{locale}: run pybabel update: {sorted(wanted - have)[:5]}"
    assert have - wanted == set(), f"{locale}: obsolete: {sorted(have - wanted)[:5]}"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = _strings(message)
        if "fuzzy" in message.flags or not all(strings):
            problems.append(f"untranslated: {_ids(message)[0]!r}")
            continue
        source = placeholders(_ids(message)[-1])
        for string in strings:
            # One plural form may name the count in words ("one word"): a subset is fine.
            found = placeholders(string)
            if found != source and not (
                isinstance(message.id, tuple) and set(found) <= set(source)
            ):
                problems.append(f"placeholders differ: {_ids(message)[0]!r} -> {string!r}")
    assert not problems, f"{locale}: {len(problems)} problems, e.g. {problems[:5]}"


def test_unshipped_catalogs_are_kept_in_step_with_the_template() -> None:
    """Languages on their way (not yet offered) are still updated with every extract."""
    wanted = {_ids(m)[0] for m in _read(POT) if m.id}
    for locale in i18n.LANGUAGE_NAMES:
        if locale == i18n.SOURCE_LOCALE:
            continue
        have = {_ids(m)[0] for m in _read(i18n.po_path(locale), locale) if m.id}
        assert have == wanted, f"{locale}: run pybabel update (docs/architecture.md)"
