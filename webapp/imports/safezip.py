"""Reading the JSON files out of an uploaded zip without trusting it.

Nothing is written to disk (so no path can escape a folder), and a name that
would (absolute, `..`, a drive) is named and skipped all the same. Sizes are
checked twice: the sizes the zip declares, before anything is expanded, and
the bytes actually expanded, counted while reading, against one budget for
the whole zip (`MAX_EXPANDED_BYTES`): a zip bomb is refused either way.
Only files whose content starts like JSON are read whole; images and pages
of a ChatGPT export are counted and left.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Final

from webapp.imports.model import MAX_EXPANDED_BYTES, MAX_ZIP_ENTRIES, ImportPlan, Skip, Skipped

CHUNK: Final = 1024 * 1024
_PEEK: Final = 64
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError)


def is_zip(data: bytes) -> bool:
    """A zip by its first bytes (an empty zip is only its end record)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def unsafe_name(name: str) -> bool:
    """True for a member name that points outside the zip's own folder."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        return True
    return ".." in PurePosixPath(cleaned).parts


def _looks_like_json(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with zf.open(info) as member:
        head = member.read(_PEEK)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, allowed: int) -> bytes:
    """The member's bytes, counted as they expand; `Skip` past `allowed`."""
    chunks: list[bytes] = []
    total = 0
    with zf.open(info) as member:
        while chunk := member.read(CHUNK):
            total += len(chunk)
            if total > allowed:
                raise Skip(f"it expands to more than {_mb(allowed)} (the zip's limit)")
            chunks.append(chunk)
    return b"".join(chunks)


def json_members(data: bytes, plan: ImportPlan, label: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each JSON file of the zip `data`, in the zip's order.

    What is refused goes to `plan.skipped` (a damaged, encrypted or oversized
    member, a path outside the folder); other files to one note. `Skip` when
    the zip itself cannot be read."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _DAMAGED as err:
        raise Skip("it is not a readable zip") from err
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise Skip("the zip is empty")
        if len(infos) > MAX_ZIP_ENTRIES:
            raise Skip(f"the zip lists {len(infos):,} files (at most {MAX_ZIP_ENTRIES:,})")
        declared = sum(i.file_size for i in infos if i.filename.lower().endswith(".json"))
        if declared > 10 * MAX_EXPANDED_BYTES:
            raise Skip(f"its files declare {_mb(declared)} once expanded")
        budget = MAX_EXPANDED_BYTES
        ignored = 0
        for info in infos:
            name = " ".join(info.filename.split())[:120] or "(no name)"
            if unsafe_name(info.filename):
                plan.skipped.append(Skipped(name, "its path leads outside the zip's folder"))
                continue
            if info.flag_bits & 0x1:
                plan.skipped.append(Skipped(name, "it is encrypted"))
                continue
            if info.file_size > budget:  # the declared size, before expanding anything
                plan.skipped.append(
                    Skipped(
                        name,
                        f"it declares {_mb(info.file_size)} once expanded "
                        f"(at most {_mb(MAX_EXPANDED_BYTES)} for the whole zip)",
                    )
                )
                continue
            try:
                if not _looks_like_json(zf, info):
                    ignored += 1
                    continue
                content = _read_capped(zf, info, budget)
            except Skip as err:
                plan.skipped.append(Skipped(name, str(err)))
                budget = 0
                continue
            except _DAMAGED:
                plan.skipped.append(Skipped(name, "it is damaged in the zip"))
                continue
            budget -= len(content)
            yield name, content
        if ignored:
            plan.notes.append(
                f"{label}: {ignored:,} other file{'s' if ignored > 1 else ''} "
                "(images, pages) not imported."
            )
