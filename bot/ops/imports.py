"""A hook run after a package is first imported, for the libraries the commands load lazily
(bot/ops/logs.py sets up their loggers when they arrive, as it does at start for those loaded)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
from collections.abc import Callable, Collection, Sequence
from types import ModuleType


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
