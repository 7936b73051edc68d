"""Third-party libraries' loggers made ours (bot/ops/logs.py): their console handlers dropped,
their levels set, at setup and again when a library loads later (the commands load their SDKs
lazily; PyGithub sets its level at import, lark-oapi adds a handler on stdout)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
from collections.abc import Callable, Collection, Sequence
from functools import partial
from types import ModuleType


def tame(
    logger: logging.Logger, level: int, keep: logging.Filter, undo: list[Callable[[], None]]
) -> None:
    """`logger` without console handlers of its own, propagating, at `level`, with the filter
    `keep`; what was changed is undone by `undo`, last first."""
    for own in list(logger.handlers):
        if isinstance(own, logging.StreamHandler) and not isinstance(own, logging.FileHandler):
            logger.removeHandler(own)
            undo.append(partial(logger.addHandler, own))
    if not logger.propagate:
        logger.propagate = True
        undo.append(partial(setattr, logger, "propagate", False))
    if logger.level != level:
        undo.append(partial(logger.setLevel, logger.level))
        logger.setLevel(level)
    if keep not in logger.filters:
        logger.addFilter(keep)
        undo.append(partial(logger.removeFilter, keep))


class AfterImport(importlib.abc.MetaPathFinder):
    """On `sys.meta_path`: runs `then()` after each module of `packages` (top-level names, and
    their submodules: bot/feishu/sdk.py loads lark-oapi's without its package) has executed.

    It finds nothing itself: it asks the path finder, and wraps the found loader's
    `exec_module` on that loader instance alone, so the module keeps its own loader."""

    def __init__(self, packages: Collection[str], then: Callable[[], None]) -> None:
        self._packages = frozenset(packages)
        self._then = then

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self._packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        exec_module = getattr(loader, "exec_module", None)
        if loader is None or exec_module is None:
            return spec
        then = self._then

        def run_then_tell(module: ModuleType) -> None:
            exec_module(module)
            then()

        loader.exec_module = run_then_tell  # type: ignore[method-assign]
        return spec
