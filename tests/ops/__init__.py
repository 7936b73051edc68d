"""Tests of bot/ops: settings, logs, metrics, the container files."""
