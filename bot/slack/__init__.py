"""Slack: Block Kit rendering and escaping (pure), the poster and the Bolt app (I/O at the edge)."""
