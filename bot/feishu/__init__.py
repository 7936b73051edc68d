"""Feishu (Lark): cards (cards -> card parts -> escaping), the poster, callbacks, the bot.

May import digest, bot.chat, bot.delivery, bot.store and bot.ops; never bot.slack or bot.web.
"""
