"""Feishu (Lark): card rendering (cards.py, card_parts.py) and escaping (escape.py)."""
