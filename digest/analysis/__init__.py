"""Analyzers: heuristic.py (offline rules) and, later, llm.py; one interface."""
