"""Prompt template files (package data; see README.md). A package so that wheels ship them."""
