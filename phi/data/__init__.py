"""Bundled word lists (package data): see SOURCES.md for where each comes from."""
