"""Commit Digest, the application: the `digest` command, the chat bots, the schedule, the store."""
