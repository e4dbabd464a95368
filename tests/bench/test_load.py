"""bench.load's parts that decide its figures: the nginx it runs is docs/deploy.md's,
and an answer counts as whole only when every block of it is on the member's screen."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import load, load_setup


def test_nginx_config_is_the_documented_one(tmp_path: Path) -> None:
    conf = load_setup.nginx_config(tmp_path, 18080, [8601, 8602])
    documented = load_setup.deploy_nginx_block()
    # Everything that makes the deployment work is taken from the doc, unchanged.
    for line in (
        "hash $ablt_route consistent;",
        "proxy_set_header Upgrade    $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_buffering off;",
        "proxy_read_timeout 1d;",
        'add_header Set-Cookie "ablt_route=$ablt_route;',
    ):
        assert line in documented
        assert line in conf
    assert "server 127.0.0.1:8601 max_fails=3 fail_timeout=15s;" in conf
    assert "server 127.0.0.1:8602 max_fails=3 fail_timeout=15s;" in conf
    assert "8501" not in conf
    assert "listen 127.0.0.1:18080;" in conf
    assert "ssl_certificate" not in conf


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(load_setup.nginx_config(tmp_path, 18080, [8601, 8602]))
    result = subprocess.run(
        [shutil.which("nginx") or "nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _tab(texts: list[str]) -> SimpleNamespace:
    return SimpleNamespace(texts=lambda: texts, trace=[], sent_at=0.0)


def test_an_answer_drawn_in_html_blocks_is_whole() -> None:
    record = {"text": "First *part* here.\n\nSecond & last.", "completed": True}
    screen = [
        '<div class="ablt-block"><p dir="auto">First <em>part</em> here.</p></div>',
        "<style>.x { }</style>",
        '<div class="ablt-block"><p>Second &amp; last.</p></div>',
    ]
    level = load.Level(1)
    load.judge(_tab(screen), "load-001", "q", record, level)  # type: ignore[arg-type]
    assert (level.lost, level.cut, level.mixed) == (0, 0, 0)


def test_a_cut_a_lost_and_a_mixed_answer_are_counted() -> None:
    record = {"text": "First part here.\n\nSecond and last.", "completed": True}
    level = load.Level(3)
    load.judge(_tab(["First part here."]), "load-001", "q", record, level)  # type: ignore[arg-type]
    load.judge(_tab(["Something else"]), "load-002", "q", record, level)  # type: ignore[arg-type]
    mixed = ["First part here.", "Second and last.", "You asked: Question 1 from load-009"]
    load.judge(_tab(mixed), "load-003", "q", record, level)  # type: ignore[arg-type]
    assert (level.cut, level.lost, level.mixed) == (1, 1, 1)
    assert not level.passed
