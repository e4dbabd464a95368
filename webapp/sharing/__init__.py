"""Read-only share links (see `webapp.sharing.links`)."""

from webapp.sharing.links import (
    NOT_AVAILABLE,
    SHARE_PARAM,
    SharedSnapshot,
    ShareLink,
    ShareLinks,
    ShareNotAvailable,
    share_path,
)

__all__ = [
    "NOT_AVAILABLE",
    "SHARE_PARAM",
    "ShareLink",
    "ShareLinks",
    "ShareNotAvailable",
    "SharedSnapshot",
    "share_path",
]
