"""bench/stream_render.py imports and reads its command line (the bench itself is not run)."""

from __future__ import annotations

import pytest

from bench import stream_render


def test_quick_mode_picks_few_sizes_one_run_and_few_members() -> None:
    args = stream_render.parse_args(["--quick"])
    assert args.sizes == list(stream_render.QUICK_SIZES)
    assert args.runs == 1
    assert 0 < args.members < stream_render.DEFAULT_MEMBERS
    assert args.kinds == ["product", "reference"]


def test_defaults_are_the_issue_figures() -> None:
    args = stream_render.parse_args([])
    assert args.sizes == [200, 1000, 3000]
    assert args.members == 20
    assert args.conversations == 30


def test_explicit_options_win_over_quick() -> None:
    args = stream_render.parse_args(
        ["--quick", "--sizes", "500", "--runs", "2", "--members", "0", "--app-only"]
    )
    assert (args.sizes, args.runs, args.members, args.kinds) == ([500], 2, 0, ["product"])
    assert stream_render.parse_args(["--reference-only"]).kinds == ["reference"]


@pytest.mark.parametrize(
    "argv",
    [["--app-only", "--reference-only"], ["--sizes", "5"], ["--runs", "-1"], ["--members", "-2"]],
)
def test_impossible_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        stream_render.parse_args(argv)


def test_percentile_is_nearest_rank_and_skips_missing_values() -> None:
    values = [float(v) for v in range(1, 21)] + [None]
    assert stream_render.percentile(values, 0.5) == 10.0
    assert stream_render.percentile(values, 0.99) == 20.0
    assert stream_render.percentile([None], 0.5) is None


def test_an_answer_is_judged_against_what_the_emulator_sent() -> None:
    record = {"text": "Hello  there,\n\nmember A.", "completed": True}
    prompts = ["member A", "member B"]
    assert stream_render.judge("Hello there, member A. Copy", record, prompts, "member A") == "ok"
    assert stream_render.judge("Hello there,", record, prompts, "member A") == "cut"
    assert stream_render.judge("Hello there, member B.", record, prompts, "member A") == "mixed"
    assert stream_render.judge("", record, prompts, "member A") == "lost"
    assert stream_render.judge("anything", None, prompts, "member A") == "lost"


def test_targets_compare_the_product_with_the_reference_of_the_same_run() -> None:
    args = stream_render.parse_args(["--sizes", "200", "3000", "--members", "2"])
    answer = stream_render.Answer
    results = {
        ("product", 200): [answer("product", 200, first_ms=110, cpu_s=0.3, bytes_ratio=300)],
        ("reference", 200): [answer("reference", 200, first_ms=100, cpu_s=0.1, bytes_ratio=100)],
        ("product", 3000): [answer("product", 3000, first_ms=100, cpu_s=1.4, bytes_ratio=20)],
        ("reference", 3000): [answer("reference", 3000, first_ms=100, cpu_s=1.0, bytes_ratio=900)],
    }
    outcomes = {
        "product": {
            "answers": [answer("product", 9, lag_ms=140), answer("product", 9, lag_ms=150)],
            "verdicts": ["ok", "cut"],
            "saved": [],
        },
        "reference": {
            "answers": [answer("reference", 9, lag_ms=100), answer("reference", 9, lag_ms=100)],
            "verdicts": ["ok", "ok"],
            "saved": [],
        },
    }
    met = {
        title.split(" <=")[0].split(",")[0]: ok
        for title, _, ok in stream_render.targets(results, outcomes, args)
    }
    assert met == {
        "bytes / answer size at 3000 words": True,  # 20x, the largest size only
        "first word": True,  # 1.1x at worst
        "server CPU": False,  # 3x at 200 words
        "2 members: lag p50": True,  # 1.4x
        "2 members: no answer lost": False,  # one cut
    }
