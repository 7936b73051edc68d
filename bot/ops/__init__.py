"""Running the bot: settings (the only reader of the environment), logs, metrics, progress bars.

May import digest and bot.store; never a platform.
"""
