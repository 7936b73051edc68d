"""Tests of bot/store: the database, migrations, the channel side."""
