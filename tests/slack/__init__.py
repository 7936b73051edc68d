"""Tests of bot/slack and the fake Slack Web API."""
