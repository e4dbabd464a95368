"""Hostile and odd files: each gets a plain line naming what was skipped and
why (or a note on what was changed), never an exception. Big files are made
here, never committed."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest

from webapp.imports import model, reader, safezip
from webapp.imports.model import ImportPlan
from webapp.imports.reader import read_upload

MB = 1024 * 1024


def message(role: str, text: Any, when: Any = 1714557600.0, **content: Any) -> dict[str, Any]:
    return {
        "author": {"role": role},
        "create_time": when,
        "content": content or {"content_type": "text", "parts": [text]},
        "metadata": {},
    }


def chatgpt(
    mapping: dict[str, Any], current: Any = None, title: Any = "Odd", **extra: Any
) -> dict[str, Any]:
    return {"title": title, "mapping": mapping, "current_node": current, **extra}


def node(key: str, parent: str | None, children: list[str], msg: Any) -> dict[str, Any]:
    return {"id": key, "parent": parent, "children": children, "message": msg}


def upload(data: Any, name: str = "conversations.json") -> ImportPlan:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    plan = read_upload(name, raw)
    for skipped in plan.skipped:  # every reason is a short plain sentence
        assert skipped.why and "Traceback" not in skipped.why and len(skipped.why) < 200
    return plan


def a_zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def declare_sizes(data: bytes, size: int) -> bytes:
    """The zip with every central-directory entry declaring `size` bytes expanded."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def never_open(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a member was expanded")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


# ----------------------------------------------------------------------- zips


def test_an_empty_zip() -> None:
    plan = upload(a_zip())
    assert not plan.conversations
    assert [s.why for s in plan.skipped] == ["the zip is empty"]


def test_a_zip_bomb_declaring_10_gb_is_refused_before_anything_expands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1 MB on the wire: ten members of 100 KB of real JSON, each declaring 1 GB.
    members = [(f"part{i}.json", b"[" + b" " * (100 * 1024) + b"]") for i in range(10)]
    bomb = declare_sizes(a_zip(*members), 1024 * MB)
    assert len(bomb) < MB
    never_open(monkeypatch)
    plan = upload(bomb, "export.zip")
    assert not plan.conversations
    assert [s.why for s in plan.skipped] == ["its files declare 10,240 MB once expanded"]


def test_a_real_zip_bomb_is_refused_by_its_declared_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # A true bomb (small zip, huge member), made at a test's scale: the limit
    # is lowered to 4 MB and the member expands to 30 MB of JSON whitespace.
    monkeypatch.setattr(safezip, "MAX_EXPANDED_BYTES", 4 * MB)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bomb.json", "w") as f:
        f.write(b"[")
        for _ in range(30):
            f.write(b" " * MB)
        f.write(b"]")
    assert len(buffer.getvalue()) < MB
    never_open(monkeypatch)
    plan = upload(buffer.getvalue(), "export.zip")
    assert not plan.conversations
    (skipped,) = plan.skipped
    assert skipped.what == "bomb.json"
    assert skipped.why.startswith("it declares 30 MB once expanded")


def test_a_zip_that_lies_about_its_sizes_is_refused_while_expanding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(safezip, "MAX_EXPANDED_BYTES", 4 * MB)
    big = b"[" + b" " * (20 * MB) + b"]"
    liar = declare_sizes(a_zip(("small.json", big)), 1000)  # says 1 KB, holds 20 MB
    plan = upload(liar, "export.zip")
    assert not plan.conversations
    (skipped,) = plan.skipped
    assert skipped.what == "small.json"
    assert skipped.why == "it is damaged in the zip"  # stopped at the declared size
    # And the count while reading holds whatever the header says.
    with (
        zipfile.ZipFile(io.BytesIO(a_zip(("big.json", big)))) as zf,
        pytest.raises(model.Skip, match="expands to more than"),
    ):
        safezip._read_capped(zf, zf.infolist()[0], 4 * MB)


def test_zip_paths_outside_the_folder_are_skipped_and_named() -> None:
    good = json.dumps(chatgpt({"a": node("a", None, [], message("user", "Hi"))}, "a")).encode()
    plan = upload(
        a_zip(
            ("../evil.json", good),
            ("/etc/abs.json", good),
            ("ok/../../x.json", good),
            ("fine.json", good),
        ),
        "export.zip",
    )
    assert len(plan.conversations) == 1
    assert sorted(s.what for s in plan.skipped) == [
        "../evil.json",
        "/etc/abs.json",
        "ok/../../x.json",
    ]
    assert {s.why for s in plan.skipped} == {"its path leads outside the zip's folder"}


def test_mixed_formats_with_a_broken_member_in_one_zip() -> None:
    good = json.dumps(chatgpt({"a": node("a", None, [], message("user", "Hi"))}, "a")).encode()
    webui = json.dumps(
        {
            "title": "W",
            "chat": {
                "history": {
                    "currentId": "x",
                    "messages": {
                        "x": {
                            "id": "x",
                            "parentId": None,
                            "childrenIds": [],
                            "role": "user",
                            "content": "Yo",
                            "timestamp": 1719000000,
                        }
                    },
                }
            },
        }
    ).encode()
    plan = upload(
        a_zip(
            ("a.json", good),
            ("b.json", b"{not json"),
            ("c.json", webui),
            ("d.zip", a_zip(("inner.json", good))),
        ),
        "mixed.zip",
    )
    assert [c.source for c in plan.conversations] == ["chatgpt", "openwebui"]
    assert [(s.what, s.why) for s in plan.skipped] == [
        ("b.json", "it is not valid JSON (line 1, column 2)")
    ]


def test_not_a_zip_not_json_and_too_big(monkeypatch: pytest.MonkeyPatch) -> None:
    assert upload(b"PK\x03\x04garbage", "x.zip").skipped[0].why == "it is not a readable zip"
    assert upload(b"\xff\xfe\x00binary").skipped[0].why == "it is not UTF-8 text"
    assert upload(b"   ").skipped[0].why == "it is empty"
    assert upload(b"[NaN]").skipped[0].why == "it is not valid JSON"
    assert upload(b"[" * 100_000 + b"]" * 100_000).skipped[0].why == "it is nested too deeply"
    assert upload({"hello": "world"}).skipped[0].why == reader.UNKNOWN
    monkeypatch.setattr(reader, "MAX_UPLOAD_BYTES", 10)
    assert upload(b"[1, 2, 3, 4, 5]").skipped[0].why == "the file is larger than 200 MB"


# ----------------------------------------------------------------- the trees


def test_50000_conversations_import_up_to_the_limit_and_name_the_rest() -> None:
    one = chatgpt({"a": node("a", None, [], message("user", "Hi"))}, "a")
    plan = upload([one] * 50_000)
    assert len(plan.conversations) == model.MAX_CONVERSATIONS
    (skipped,) = plan.skipped
    assert skipped.count == 50_000 - model.MAX_CONVERSATIONS
    assert skipped.why == f"an import takes at most {model.MAX_CONVERSATIONS:,} conversations"
    assert plan.summary() == "10,000 conversations, 10,000 messages, 40,000 skipped"


def test_a_cycle_in_the_parent_links_is_left_out_and_noted() -> None:
    mapping = {
        "a": node("a", None, ["b"], message("user", "Hi")),
        "b": node("b", "a", [], message("assistant", "Hello")),
        "x": node("x", "y", ["y"], message("user", "loop 1")),
        "y": node("y", "x", ["x"], message("assistant", "loop 2")),
    }
    plan = upload(
        [
            chatgpt(mapping, "b"),
            chatgpt({"x": mapping["x"], "y": mapping["y"]}, "x", title="Only a loop"),
        ]
    )
    (parsed,) = plan.conversations
    assert [m.text for m in parsed.conversation.messages] == ["Hi", "Hello"]
    assert any("2 messages in a loop of parent links left out" in n for n in plan.notes)
    assert [(s.what, s.why) for s in plan.skipped] == [
        ("Only a loop", "it has no messages to show")
    ]


def test_a_child_pointing_to_a_missing_node_and_a_missing_current_node() -> None:
    mapping = {
        "a": node("a", None, ["b", "ghost"], message("user", "Hi")),
        "b": node("b", "a", [], message("assistant", "Hello", when=1714557700)),
        "c": node("c", "a", [], message("assistant", "Newer", when=1714557800)),
        "orphan": node("orphan", "gone", [], message("user", "Lost parent", when=1714557900)),
    }
    plan = upload(chatgpt(mapping, "does-not-exist"))
    (parsed,) = plan.conversations
    # The newest branch is shown; the rest are versions.
    assert [m.text for m in parsed.conversation.messages] == ["Lost parent"]
    assert {v.text for v in parsed.conversation.versions} == {"Hi", "Hello", "Newer"}
    assert any("1 link to missing messages ignored" in n for n in plan.notes)
    assert any("the newest branch is shown" in n for n in plan.notes)


def test_parts_null_numbers_as_strings_and_wrong_types() -> None:
    mapping = {
        "r": node("r", None, ["a"], None),
        "a": node(
            "a",
            "r",
            ["b"],
            message(
                "user", None, when="1714557600.5", content_type="text", parts=[42, "is the answer"]
            ),
        ),
        "b": node("b", "a", ["c"], message("assistant", None, content_type="text", parts=None)),
        "c": node("c", "b", ["d"], message("assistant", "Yes", when="soon")),
        "d": node("d", "c", [], {"author": None, "content": [1, 2], "metadata": "x"}),
        "e": 5,
        "f": node("f", "c", "not a list", message("user", {"weird": True})),
    }
    plan = upload(chatgpt(mapping, "c", title=123))
    (parsed,) = plan.conversations
    conv = parsed.conversation
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "42\n\nis the answer"),
        ("assistant", "Yes"),
    ]
    assert conv.messages[0].created_at == datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert conv.messages[1].created_at == conv.messages[0].created_at  # "soon": the one before
    assert conv.conversation.title == "42 is the answer"  # a number is no title


def test_dates_in_the_year_9999_and_before_1970_are_not_kept() -> None:
    mapping = {
        "a": node("a", None, ["b"], message("user", "Future", when=253402300799)),
        "b": node("b", "a", ["c"], message("assistant", "Past", when=-86400 * 365)),
        "c": node("c", "b", [], message("user", "Overflow", when=1e300)),
    }
    plan = upload(chatgpt(mapping, "c", create_time=1714557600, update_time="9999999999999"))
    conv = plan.conversations[0].conversation
    times = {m.created_at for m in conv.messages}
    assert times == {datetime(2024, 5, 1, 10, 0, tzinfo=UTC)}  # the conversation's own
    assert conv.conversation.updated_at.year == 2024
    librechat = {
        "title": "Dates",
        "messages": [
            {
                "messageId": "1",
                "parentMessageId": None,
                "isCreatedByUser": True,
                "text": "a",
                "createdAt": "9999-12-31T23:59:59Z",
            },
            {
                "messageId": "2",
                "parentMessageId": "1",
                "isCreatedByUser": False,
                "text": "b",
                "createdAt": "1969-07-20T20:17:00Z",
            },
        ],
    }
    conv = upload(librechat).conversations[0].conversation
    assert all(
        m.created_at.year >= 2000 and m.created_at <= datetime.now(UTC) for m in conv.messages
    )


def test_10_mb_in_one_message_skips_that_conversation_and_says_why() -> None:
    huge = chatgpt({"a": node("a", None, [], message("user", "x" * (10 * MB)))}, "a", title="Big")
    fine = chatgpt({"a": node("a", None, [], message("user", "small"))}, "a", title="Fine")
    plan = upload([huge, fine])
    assert [c.conversation.conversation.title for c in plan.conversations] == ["Fine"]
    assert [(s.what, s.why) for s in plan.skipped] == [
        ("Big", "one message has 10,485,760 characters (at most 1,000,000)")
    ]


def test_too_many_messages_in_one_conversation(monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = {"n0": node("n0", None, [], message("user", "0"))}
    for i in range(1, model.MAX_MESSAGES + 1):
        mapping[f"n{i}"] = node(
            f"n{i}", f"n{i - 1}", [], message("user" if i % 2 == 0 else "assistant", str(i))
        )
    plan = upload(chatgpt(mapping, f"n{model.MAX_MESSAGES}", title="Long"))
    assert [(s.what, s.why) for s in plan.skipped] == [
        ("Long", f"it has {model.MAX_MESSAGES + 1:,} messages (at most {model.MAX_MESSAGES:,})")
    ]


def test_nul_and_lone_surrogates_are_kept_as_replacement_characters() -> None:
    raw = json.dumps(chatgpt({"a": node("a", None, [], message("user", "a\u0000b"))}, "a"))
    raw = raw.replace("a\\u0000b", "a\\u0000b\\ud800")
    (parsed,) = upload(raw.encode()).conversations
    assert parsed.conversation.messages[0].text == "a\ufffdb\ufffd"


def test_a_recursive_librechat_export_of_a_long_conversation_is_read() -> None:
    # Two levels of nesting per message: 2,000 messages are 4,000 levels,
    # past Python's own recursion limit for json.
    def chain(i: int, last: int) -> dict[str, Any]:
        return {
            "messageId": f"m{i}",
            "parentMessageId": f"m{i - 1}" if i else None,
            "isCreatedByUser": i % 2 == 0,
            "text": f"message {i}",
            "createdAt": "2024-06-01T09:00:00Z",
            "children": [] if i == last else ["CHILD"],
        }

    heads, tails = [], []
    for i in range(2_000):
        head, _, tail = json.dumps(chain(i, 1_999)).partition('"CHILD"')
        heads.append(head)
        tails.append(tail)
    inner = "".join(heads) + "".join(reversed(tails))
    text = '{"title": "Long", "recursive": true, "messages": [' + inner + "]}"
    plan = upload(text.encode())
    assert not plan.skipped
    (parsed,) = plan.conversations
    assert len(parsed.conversation.messages) == 2_000
    assert parsed.conversation.messages[-1].text == "message 1999"
