"""Evaluation of the scrubber against gold files. Never imported by the runtime path."""
