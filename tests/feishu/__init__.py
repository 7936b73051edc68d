"""Tests of bot/feishu and the fake Feishu Open API."""
