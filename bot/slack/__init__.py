"""Slack: Block Kit rendering and escaping (pure), the poster and the Bolt app (I/O at the edge).

May import digest, bot.chat, bot.delivery, bot.store and bot.ops; never bot.feishu or bot.web.
"""
