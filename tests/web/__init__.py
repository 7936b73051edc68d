"""Tests of bot/web: the report pages (also in headless Chromium)."""
