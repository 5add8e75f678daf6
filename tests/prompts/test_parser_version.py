"""prompts.PARSER_VERSION names the parsing, so it must change whenever what the parser reads from
an answer may change. A fingerprint of the parser's modules is recorded here per version: changing
them without a bump fails this test."""
import hashlib
import re
from pathlib import Path

import prompts

FINGERPRINTS = {
    "parser@1.0.0": "d05bb1645dcfb24dd7ecf42da427e9383d793ea4cd028a6e51fdf2a75288fae8",
}
_PARSER_MODULES = ("answer.py", "matching.py", "parsing.py", "vocabulary.py")


def fingerprint() -> str:
    digest = hashlib.sha256()
    root = Path(prompts.__file__).parent
    for name in _PARSER_MODULES:
        text = (root / name).read_bytes().replace(b"\r\n", b"\n")
        if name == "parsing.py":  # the version line itself is not the parser
            text = re.sub(rb'PARSER_VERSION = "[^"]*"', b"", text)
        digest.update(name.encode() + b"\0" + text + b"\0")
    return digest.hexdigest()


def test_version_names_the_parser():
    assert re.fullmatch(r"parser@\d+\.\d+\.\d+", prompts.PARSER_VERSION)


def test_parser_did_not_change_without_a_version_bump():
    current = fingerprint()
    assert FINGERPRINTS.get(prompts.PARSER_VERSION) == current, (
        f"the parser changed (fingerprint {current}): bump prompts.PARSER_VERSION and add "
        f"'<new version>': '{current}' to FINGERPRINTS in {Path(__file__).name}")
