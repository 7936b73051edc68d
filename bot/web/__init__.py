"""The HTTP side: the aiohttp app, the report pages, and `digest serve`, which wires it all.

May import everything in bot/: it is where the platforms meet.
"""
