"""Commit Digest, the library: sources, analysis and rendering, with no chat-platform code."""

__version__ = "0.1.0"
