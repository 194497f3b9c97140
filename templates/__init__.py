"""Jinja2 templates: pages, notification texts, report documents (data, no code)."""
