"""Delivery: what is due, the APScheduler jobs, a run's plan, claim -> build -> post -> record.

May import digest, bot.store and bot.ops; never a platform (posters come in as values).
"""
