"""Leaves every layer may import: configuration, logging, error codes, failure triage."""
