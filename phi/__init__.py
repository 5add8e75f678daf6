"""PHI scrubber for clinical notes and patient journals, built on scrubadub.

    from phi import Scrubber
    Scrubber().scrub("Dr. Smith saw me on 3/4").text  ->  "Dr. [NAME] saw me on [DATE]"

Imports nothing from the rest of mindq; all word lists ship as package data.
"""
from .scrubber import Scrubber
from .spans import KINDS, PhiSpan, ScrubResult

# Names what the scrubber finds (jobs record "phi@<version>"): bump it whenever a detector, a word
# list or the merge may find something else; tests/phi/test_version.py holds it to a fingerprint.
__version__ = "1.2.5"

__all__ = ["KINDS", "PhiSpan", "ScrubResult", "Scrubber"]
