"""Allow-lists from maintained packages: Philter's non-name whitelist and a drug-name dictionary.

- ``philter-lite`` (BSD-3) ships Philter's ``filters/set.toml``; its ``nonames`` list (~195k words:
  English, medical terms, abbreviations, common misspellings) is read with ``tomllib``.
- ``drug-named-entity-recognition`` (MIT) ships ``drug_ner_dictionary.pkl.bz2``: ~107k drug name
  variants (generic and brand names); its one-word variants are read with a pickle loader that
  only accepts plain containers and strings.

Both are package data of installed wheels: nothing is downloaded. Parsing them takes ~1 s, so the
words are kept in a compact cache file (one word a line) keyed by the source files' size and
mtime, under ``MINDQ_PHI_CACHE_DIR`` (default ``$MINDQ_HOME/cache/phi``);
without a writable cache the lists are parsed each time. A missing package gives an empty list.
"""
from __future__ import annotations

import bz2
import hashlib
import importlib.util
import io
import os
import pickle
import re
import tempfile
import tomllib
from pathlib import Path

from core import config

_FORMAT = "1"
_ONE_WORD = re.compile(r"^[a-z][a-z\-']{1,40}$")


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


def _philter_nonames(path: Path) -> set[str]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return {w.strip().lower() for w in data.get("nonames", ()) if isinstance(w, str)}


class _PlainUnpickler(pickle.Unpickler):
    """Only dicts, lists, strings, numbers: a data file must not run code."""

    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(f"refusing {module}.{name}")


def _drug_names(path: Path) -> set[str]:
    data = _PlainUnpickler(io.BytesIO(bz2.decompress(path.read_bytes()))).load()
    variants = data.get("drug_variant_to_canonical", {}) if isinstance(data, dict) else {}
    return {v.lower() for v in variants if isinstance(v, str)}


_SOURCES = {
    "philter": (("philter_lite", "filters", "set.toml"), _philter_nonames),
    "drugs": (("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2"), _drug_names),
}


def _cache_dir() -> Path:
    return config.settings().phi_cache_dir or config.settings().home / "cache" / "phi"


def load(source: str) -> frozenset[str]:
    """One-word entries of ``source`` ("philter" or "drugs"), lower case; empty when not installed."""
    parts, parse = _SOURCES[source]
    path = _package_file(*parts)
    if path is None:
        return frozenset()
    stat = path.stat()
    key = hashlib.sha1(f"{_FORMAT}|{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = _cache_dir() / f"{source}-{key}.txt"
    try:
        return frozenset(cache.read_text(encoding="utf-8").split("\n"))
    except (OSError, UnicodeDecodeError):
        pass
    try:
        words = frozenset(w for w in parse(path) if _ONE_WORD.match(w))
    except Exception:  # a broken data file must not break scrubbing: no allow-list then
        return frozenset()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=f".{source}-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(sorted(words)))
        os.replace(tmp, cache)
    except OSError:
        pass
    return words
