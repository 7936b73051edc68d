"""Progress bars on stderr while commits are fetched and analysed; silent when not a terminal."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Never, TextIO

from digest.service import Progress

if TYPE_CHECKING:  # loaded for a terminal only: a pipe or a file gets no bars
    from tqdm import tqdm


class ProgressBars:
    """Two bars (fetch, analyse) drawn only when `stream` is a terminal; stdout is never touched."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._bars: dict[str, tqdm[Never]] = {}

    def _update(self, name: str, done: int, total: int) -> None:
        if not self._enabled:
            return
        if name not in self._bars:
            from tqdm import tqdm

            self._bars[name] = tqdm(
                total=total, desc=name, unit="commit", file=self._stream, leave=False
            )
        bar = self._bars[name]
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    @property
    def progress(self) -> Progress:
        return Progress(
            fetched=lambda done, total: self._update("fetching", done, total),
            analysed=lambda done, total: self._update("analysing", done, total),
        )

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
