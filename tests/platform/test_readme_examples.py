"""The README's examples for EMR integrators and batch users, run as written against the real
stack: each fenced bash or python block of those two sections, in a fresh directory, with
MINDQ_HOME's stack.json naming the API and MINDQ_API_KEY set (what a user has after `mindq up`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jobstore import runtime, tenants

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("## For EMR integrators: FHIR R4", "## For batch users: client and CLI")
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.M | re.S)


def blocks(heading: str) -> list[tuple[str, str]]:
    text = README.read_text()
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return BLOCK.findall(text[start:end if end >= 0 else None])


def test_the_sections_have_examples():
    for heading in SECTIONS:
        assert blocks(heading), heading


@pytest.mark.parametrize("heading", SECTIONS)
def test_readme_examples_run(heading, tmp_path, proc_env, web_server, cpu_worker, llm_worker):
    missing = [tool for tool in ("curl", "jq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the examples use {' and '.join(missing)}, not installed here")
    home = tmp_path / "home"
    home.mkdir()
    (home / "stack.json").write_text(json.dumps({"api": web_server}))
    key = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), f"readme-{len(heading)}"))
    bin_dir = str(Path(sys.executable).parent)  # the venv's `mindq` command
    env = {**proc_env, "MINDQ_HOME": str(home), "MINDQ_API_KEY": key, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("MINDQ_BOOTSTRAP_KEY", None)
    for lang, code in blocks(heading):
        cmd = ["bash", "-euo", "pipefail", "-c", code] if lang == "bash" else [sys.executable, "-c", code]
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (lang, code[:200], done.stdout[-2000:], done.stderr[-2000:])
        out = done.stdout
        if "forecast" in code and "fhir" in code:  # four weeks ahead, each with its interval
            weeks = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            assert len(weeks) == 4 and all(w["interval"][0] <= w["point"] <= w["interval"][1] for w in weeks), out
        if '"risk"' in code:
            assert json.loads(out.splitlines()[-1])["result"][0]["resourceType"] == "RiskAssessment", out
        if "mindq batch" in code:
            rows = [json.loads(line) for line in out.splitlines() if line.startswith('{"id"')]
            # one line per input, in the order the jobs finished
            assert sorted(r["id"] for r in rows) == ["note-1", "note-2"] and "555-201-3344" not in out, out
        if lang == "python":
            assert out.splitlines()[-1].startswith("succeeded "), out
