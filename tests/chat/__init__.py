"""Tests of bot/chat: the grammar, execution, words for errors, `digest chat`."""
