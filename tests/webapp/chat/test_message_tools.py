"""A message's line: its time on the member's clock, and one-click Copy."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from webapp.chat.message_tools import full_time, imported_label, time_label, tools_html
from webapp.ui.clipboard import decode_text

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_time_is_read_on_the_members_clock() -> None:
    when = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
    assert time_label(when, TOKYO, now=NOW) == "18:05"  # today in Tokyo too
    assert time_label(when, NEW_YORK, now=NOW) == "04:05"
    assert time_label(when, None, now=NOW) == "09:05"  # zone unknown: UTC
    assert full_time(when, TOKYO) == "2026-11-30 18:05 JST"


def test_older_times_carry_their_day_and_year() -> None:
    # 23:30 UTC on the 29th is already the 30th in Tokyo: "today" is local.
    late = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert time_label(late, TOKYO, now=NOW) == "08:30"
    assert time_label(late, UTC, now=NOW) == "29 Nov 23:30"
    assert time_label(datetime(2025, 5, 1, 8, 0, tzinfo=UTC), UTC, now=NOW) == "1 May 2025 08:00"


def test_the_copy_button_carries_the_raw_text_intact() -> None:
    raw = 'He said "hi" & <script>alert(1)</script> --> </style>\n  `code` é 👍🏽'
    line = tools_html(message_id="m-1", when=NOW, tz=TOKYO, copy_text=raw, now=NOW)
    carried = re.search(r'data-ablt-copy="([^"]*)"', line)
    assert carried is not None
    assert decode_text(html.unescape(carried.group(1))) == raw
    assert decode_text(carried.group(1)) == raw  # nothing in it for the HTML parser to change
    assert "<script>" not in line and "</style>" not in line
    assert (
        '<time datetime="2026-11-30T12:00:00+00:00" title="2026-11-30 21:00 JST">21:00</time>'
        in line
    )


def test_no_copy_button_without_text_and_the_id_is_escaped() -> None:
    line = tools_html(message_id='a"b', when=None, tz=None, copy_text=None)
    assert "button" not in line and "<time" not in line
    assert f'data-ablt-msg="{html.escape(chr(97) + chr(34) + chr(98))}"' in line


def test_an_imported_conversation_is_labelled_with_its_import_day() -> None:
    assert imported_label(None, TOKYO) is None
    assert (
        imported_label(datetime(2026, 11, 29, 20, 0, tzinfo=UTC), TOKYO) == "Imported 30 Nov 2026"
    )
