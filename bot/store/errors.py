"""The store's named error, apart from the engine: words for it load without SQLAlchemy."""

from __future__ import annotations

from digest.errors import UpstreamError


class StoreError(UpstreamError):
    """The database cannot be opened or upgraded; `url` has its password removed."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.detail = detail
