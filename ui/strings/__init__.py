"""The strings tables: one module per language, each ``STRINGS = {key: text}`` with the same keys (ui/i18n.py)."""
