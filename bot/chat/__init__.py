"""Commands, platform-neutral: text -> Command -> Reply, errors in words, `digest chat`.

May import digest, bot.store, bot.delivery and bot.ops; never bot.slack, bot.feishu or bot.web.
"""
