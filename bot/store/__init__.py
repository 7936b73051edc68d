"""The store: SQLAlchemy 2 tables and migrations, the values it keeps, caches, the channel side.

May import digest only.
"""
