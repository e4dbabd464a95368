"""`webapp.backend.Remembered`: a process's shared services asked for again
without Streamlit's cache lookup, made once, made again when no longer usable,
forgotten with the cache. With a real `st.cache_resource` function."""

from __future__ import annotations

import itertools

import streamlit as st

from webapp.backend import Remembered


def test_a_value_is_made_once_per_key_and_asked_again_without_streamlits_lookup() -> None:
    made = itertools.count()
    calls: list[tuple[str, str]] = []

    @st.cache_resource(show_spinner=False)
    def service(name: str, _secret: str) -> dict[str, int]:
        calls.append((name, _secret))
        return {"serial": next(made)}

    remembered = Remembered(service, secret_last=True)
    first = remembered("a", "token-1")
    assert remembered("a", "token-1") is first
    other = remembered("b", "token-1")
    assert other is not first
    assert calls == [("a", "token-1"), ("b", "token-1")]

    # Cleared: made again, here and in Streamlit's cache alike.
    remembered.clear()
    again = remembered("a", "token-1")
    assert again is not first and again["serial"] == 2
    assert service("a", "token-1") is again


def test_a_value_no_longer_usable_is_made_again() -> None:
    closed: set[int] = set()

    @st.cache_resource(show_spinner=False)
    def pool(url: str) -> list[str]:
        return [url]

    remembered = Remembered(pool, alive=lambda made: id(made) not in closed)
    first = remembered("sqlite://")
    closed.add(id(first))
    pool.clear()  # as a test's teardown that closes it does
    second = remembered("sqlite://")
    assert second is not first and second == ["sqlite://"]
    assert remembered("sqlite://") is second
