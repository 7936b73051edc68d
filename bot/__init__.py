"""Commit Digest, the application: settings, CLI and (later) the chat bots."""
