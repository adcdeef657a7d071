"""Jinja2 templates for every role (package data; rendered with StrictUndefined)."""
