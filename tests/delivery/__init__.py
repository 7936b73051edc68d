"""Tests of bot/delivery: what is due, the scheduler, runs, claims, replicas."""
