"""Renderers: a Digest in, text out. Labels come from i18n.py, never from an analyzer."""
