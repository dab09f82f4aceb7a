"""Figures for people: terminal tables (``tables.py``)."""
