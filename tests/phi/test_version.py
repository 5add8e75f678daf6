"""phi.__version__ names the scrubbing (tasks record "phi@<version>" with each result), so it must change
whenever what the detectors find may change. A fingerprint of phi's runtime code and word lists is
recorded here per version: changing them without a bump fails this test."""
import hashlib
import re
from pathlib import Path

import phi

FINGERPRINTS = {
    "1.1.0": "56a327de176eab7117a1b199e7ee72cafa2d08262fdbfa48d9da6930996211b4",
    "1.2.0": "0da0163ef05d21b01d06bea3074b6408492c022961fd478d8c0aedadaf21a28a",  # 1.2.0 as first released
    # 1.2.1: faster on nursing notes (gates that skip patterns a text cannot hold, a cached measure check,
    # no scrubadub Filth objects); byte-identical output on the generated nursing, clinical and journal sets
    "1.2.1": "fbd654e210c28a85064ce8f3a26957f10c6ef99e8dc587f07d758d2a7e68a46b",
    # 1.2.2: a cheap literal test before the id-label regexes; same output
    "1.2.2": "c35a05326c3d7c59ad9235d9d4e4720a4e258f6f7f142d3c3027d2420c25812a",
    # 1.2.3: faster on long nursing notes (IGNORECASE scans run case-sensitive on lower-cased ASCII text,
    # cheaper anchors and gates, signatures looked for on credential lines only); byte-identical output
    # on the generated nursing, clinical and journal sets, the presidio set and odd inputs
    "1.2.3": "c6ba30ff5de4f94d5201cc5cc5b916667c3f489a1def54d11b48115ed051a05c",
    # 1.2.4: faster on long nursing notes (the name rules asked once per word for what the word alone
    # decides, two plans per word: after a word that opens a context or not; phone starts kept per text;
    # plain_ascii by substring search); byte-identical output (spans, per-detector hits, scrub and
    # surrogate text) on 5,231 texts: the generated nursing (both splits, long notes too), clinical and
    # journal sets, the presidio set and odd inputs
    "1.2.4": "b60b1ef9569ad776a92db1bab2554776a192f02ef7f628e3822432087cad0947",
    # 1.2.5: faster on long nursing notes (gates that begin with a space class search the rest and check the
    # character before; gates whose matches hold a run of digits try the regex only at the digit runs; the
    # holiday, facility, place-phrase, age, unit, turkish-street and spelled-email gates try their regex only
    # where one of its first words is; the decade gate asks for "his/her/their" before the decade; the
    # initials gate finds ".X." first, then the capital before it);
    # byte-identical output (spans, per-detector hits, scrub and surrogate text) on 5,231 texts: the generated
    # nursing (both splits, long notes too), clinical and journal sets, the presidio set and odd inputs
    "1.2.5": "8f876b0735ceb8edf86dd815a55930425e91fa6822022328821109618de83b05",
}
_ROOT = Path(phi.__file__).parent
_SKIPPED = {"__init__.py", "__main__.py", "README.md", "SOURCES.md", "LICENSE.scowl.txt"}


def fingerprint() -> str:
    """sha256 over phi's runtime files (eval/ and docs left out), line endings normalised."""
    digest = hashlib.sha256()
    for path in sorted(_ROOT.rglob("*")):
        relative = path.relative_to(_ROOT)
        if not path.is_file() or relative.parts[0] == "eval" or path.name in _SKIPPED or \
                path.suffix not in (".py", ".txt", ".gz"):
            continue
        data = path.read_bytes()
        if path.suffix != ".gz":
            data = data.replace(b"\r\n", b"\n")
        digest.update(relative.as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def test_version_is_a_plain_string():
    assert isinstance(phi.__version__, str) and re.fullmatch(r"\d+\.\d+\.\d+", phi.__version__)


def test_detectors_did_not_change_without_a_version_bump():
    current = fingerprint()
    assert FINGERPRINTS.get(phi.__version__) == current, (
        f"phi's detectors or word lists changed (fingerprint {current}): bump phi.__version__ and add "
        f"'<new version>': '{current}' to FINGERPRINTS in {Path(__file__).name}")
