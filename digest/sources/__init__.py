"""Where commits come from: a local clone (git.py) or GitHub (github.py), behind one interface."""

from digest.sources.base import CommitSource, ProgressCallback

__all__ = ["CommitSource", "ProgressCallback"]
