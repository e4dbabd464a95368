""" "Download all my data", built in the background and fetched once.

`DataDownloads.start` writes the member's zip in a thread (the page shows
"412 of 5,000 conversations" from the `data_exports` row and stays usable);
when it is ready the page asks for a one-time link (`issue_link`) served by
`serve.py`'s route (`build_routes`), which streams the file from disk: the zip
is never held in memory, on either side. Only the SHA-256 of a link's token is
stored; a link works once, for `LINK_VALID`.

The zip lives under `ABLT_EXPORT_DIR` (default `data/exports/`) on the
process that built it; behind a proxy the sticky session sends the download
to that same process. A member's older downloads are removed when a new one
starts, and downloads older than `KEEP` by the retention sweep's caller.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from webapp.conversations.store import ConversationStore
from webapp.db import schema
from webapp.db.engine import PROJECT_ROOT
from webapp.lifecycle.member_data import Who, count_conversations, write_member_zip
from webapp.ui.i18n import N_

log = logging.getLogger(__name__)

ENV_EXPORT_DIR: Final = "ABLT_EXPORT_DIR"
ROUTE_PATH: Final = "/_ablt/data-download"
LINK_VALID: Final = timedelta(minutes=15)
KEEP: Final = timedelta(days=1)
BUILD_FAILED: Final = N_(
    "The download could not be built (the database or the disk did not "
    "cooperate). Nothing was lost; try again in a moment."
)
_T = schema.data_exports


def export_dir() -> Path:
    """Where zips are written: `ABLT_EXPORT_DIR`, else `data/exports/` in the project."""
    configured = os.environ.get(ENV_EXPORT_DIR, "").strip()
    return Path(configured) if configured else PROJECT_ROOT / "data" / "exports"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class DataDownload:
    """A download's state: `status` building | ready | failed; `done` of
    `total` conversations written; `size_bytes` once ready; `error` in plain
    words when failed."""

    id: str
    owner: str
    status: str
    done: int
    total: int
    size_bytes: int | None
    error: str | None
    created_at: datetime


class DataDownloads:
    """Start, follow and hand out members' data downloads. One per process."""

    def __init__(
        self,
        store: ConversationStore,
        *,
        folder: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.folder = folder or export_dir()
        self._now = clock or (lambda: datetime.now(UTC))
        self._threads: list[threading.Thread] = []

    def latest(self, owner: str) -> DataDownload | None:
        """The member's newest download, if any."""
        with self.store.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(_T).where(_T.c.owner == owner).order_by(_T.c.created_at.desc())
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return DataDownload(
            row["id"], row["owner"], row["status"], row["done"], row["total"],
            row["size_bytes"], row["error"], row["created_at"],
        )  # fmt: skip

    def start(self, member: Who, requested_by: str) -> DataDownload:
        """Start building `member`'s zip (or return the one being built); older
        downloads of theirs are removed. Returns at once."""
        current = self.latest(member.username)
        if current is not None and current.status == "building":
            return current
        self._remove_older(member.username)
        total = count_conversations(self.store.engine, member.username)
        download_id = str(uuid.uuid4())
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.insert(_T).values(
                    id=download_id, owner=member.username, requested_by=requested_by,
                    status="building", done=0, total=total, created_at=self._now(),
                )
            )  # fmt: skip
        thread = threading.Thread(
            target=self._build, args=(member, download_id), name="data-download", daemon=True
        )
        self._threads.append(thread)
        thread.start()
        found = self.latest(member.username)
        assert found is not None
        return found

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the downloads this object started (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _update(self, download_id: str, **values: object) -> None:
        with self.store.transaction(write=True) as conn:
            conn.execute(sa.update(_T).where(_T.c.id == download_id).values(**values))

    def _build(self, member: Who, download_id: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{download_id}.zip"
        partial = final.with_suffix(".part")
        step = [0]

        def progress(done: int, total: int) -> None:
            # About 50 progress writes per download, whatever its size.
            if done == total or done - step[0] >= max(1, total // 50):
                step[0] = done
                self._update(download_id, done=done, total=total)

        try:
            held = write_member_zip(self.store, member, partial, progress=progress, now=self._now())
            partial.replace(final)
            self._update(  # the count shown is what the file holds
                download_id, status="ready", path=str(final), done=held, total=held,
                size_bytes=final.stat().st_size, finished_at=self._now(),
            )  # fmt: skip
        except Exception:
            log.warning("A data download could not be built", exc_info=True)
            partial.unlink(missing_ok=True)
            try:
                self._update(download_id, status="failed", error=BUILD_FAILED)
            except Exception:
                log.warning("Could not record a failed data download", exc_info=True)

    def issue_link(self, download_id: str, owner: str) -> str | None:
        """A one-time token for the ready download `download_id` of `owner`, valid
        `LINK_VALID`; None when it is not theirs or not ready. The route's path
        is `ROUTE_PATH/<token>`."""
        token = secrets.token_urlsafe(32)
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(_T)
                .where(_T.c.id == download_id, _T.c.owner == owner, _T.c.status == "ready")
                .values(token_hash=_hash(token), token_expires_at=self._now() + LINK_VALID)
            )
        return token if done.rowcount == 1 else None

    def redeem(self, token: str) -> tuple[Path, str] | None:
        """(the zip, the file name to offer) for a valid token, used up now; else None."""
        with self.store.transaction(write=True) as conn:
            row = (
                conn.execute(
                    sa.select(_T.c.id, _T.c.owner, _T.c.path, _T.c.token_expires_at).where(
                        _T.c.token_hash == _hash(token), _T.c.status == "ready"
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            conn.execute(sa.update(_T).where(_T.c.id == row["id"]).values(token_hash=None))
        expires = row["token_expires_at"]
        path = Path(row["path"] or "")
        if expires is None or expires < self._now() or not path.is_file():
            return None
        return path, f"ablt-chat-data-{row['owner']}-{self._now():%Y-%m-%d}.zip"

    def _remove_older(self, owner: str) -> None:
        with self.store.transaction(write=True) as conn:
            paths = (
                conn.execute(
                    sa.select(_T.c.path).where(_T.c.owner == owner, _T.c.path.is_not(None))
                )
                .scalars()
                .all()
            )
            conn.execute(sa.delete(_T).where(_T.c.owner == owner))
        for path in paths:
            Path(path).unlink(missing_ok=True)

    def remove_expired(self) -> int:
        """Delete downloads older than `KEEP` (rows and files); returns how many."""
        cutoff = self._now() - KEEP
        with self.store.transaction(write=True) as conn:
            rows = conn.execute(
                sa.select(_T.c.id, _T.c.path).where(
                    _T.c.created_at < cutoff, _T.c.status != "building"
                )
            ).all()
            conn.execute(sa.delete(_T).where(_T.c.id.in_([r.id for r in rows])))
        for row in rows:
            if row.path:
                Path(row.path).unlink(missing_ok=True)
        return len(rows)


def build_routes(downloads: Callable[[], DataDownloads], base_path: str = "") -> list[BaseRoute]:
    """The download route, under `/` and under the app's base URL path if any:
    200 with the zip for a valid one-time token, 404 for any other."""

    async def download(request: Request) -> Response:
        found = await run_in_threadpool(downloads().redeem, request.path_params["token"])
        if found is None:
            return Response(
                "This download link was used already or has expired. "
                "Ask for a new one on the Account page.",
                status_code=404,
                headers={"Cache-Control": "no-store"},
            )
        path, name = found
        return FileResponse(
            path,
            media_type="application/zip",
            filename=name,
            headers={"Cache-Control": "no-store"},
        )

    prefixes = [""]
    if base_path.strip("/"):
        prefixes.append(f"/{base_path.strip('/')}")
    return [
        Route(f"{prefix}{ROUTE_PATH}/{{token}}", download, methods=["GET"]) for prefix in prefixes
    ]
