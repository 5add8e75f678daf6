"""Versioned artefact directories: ``<out_dir>/<name>/<version>/``.

Model files (safetensors weights, LightGBM text, ``model.json``) are hashed together;
``metadata.json`` records the hash, the metrics and the creation time and is not itself
part of the hash, so the same training run hashes the same wherever it is copied.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

METADATA = "metadata.json"


class ArtefactError(RuntimeError):
    """An artefact directory is missing, incomplete or does not match its recorded hash."""


@dataclass(frozen=True)
class ArtefactInfo:
    name: str
    version: str
    metrics: dict[str, Any]
    created_at: datetime
    sha256: str
    path: Path

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        d["path"] = str(self.path)
        return d


def files_sha256(directory: Path) -> str:
    """One digest over every model file (name and content), metadata excluded."""
    digest = hashlib.sha256()
    for f in sorted(p for p in directory.iterdir() if p.is_file() and p.name != METADATA):
        digest.update(f.name.encode() + b"\0")
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def finalise(staging: Path, out_dir: Path, name: str, metrics: dict[str, Any], extra: dict[str, Any]) -> ArtefactInfo:
    """Hash the staged model files, move them to ``out_dir/name/version`` and write metadata."""
    created = datetime.now(UTC).replace(microsecond=0)
    sha = files_sha256(staging)
    version = f"{created:%Y%m%dT%H%M%SZ}-{sha[:8]}"
    target = out_dir / name / version
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(target)
    info = ArtefactInfo(name, version, metrics, created, sha, target)
    write_json(target / METADATA, {**info.to_dict(), **extra})
    return info


def read_info(path: Path, verify: bool = True) -> tuple[ArtefactInfo, dict[str, Any]]:
    meta_file = Path(path) / METADATA
    if not meta_file.is_file():
        raise ArtefactError(f"no {METADATA} in {path}: not a model artefact directory")
    meta = json.loads(meta_file.read_text())
    if verify:
        actual = files_sha256(Path(path))
        if actual != meta["sha256"]:
            raise ArtefactError(f"artefact {path} does not match its recorded hash ({actual[:12]} != "
                                f"{meta['sha256'][:12]}); refusing to load")
    info = ArtefactInfo(meta["name"], meta["version"], meta["metrics"], datetime.fromisoformat(meta["created_at"]),
                        meta["sha256"], Path(path))
    return info, meta


def latest_version(out_dir: Path, name: str) -> Path | None:
    """Newest version directory of ``name`` under ``out_dir`` (versions sort by time), or None."""
    root = Path(out_dir) / name
    versions = sorted(p for p in root.iterdir() if (p / METADATA).is_file()) if root.is_dir() else []
    return versions[-1] if versions else None
