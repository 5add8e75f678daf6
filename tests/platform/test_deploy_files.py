"""Procfile and docker-compose.yml: the same roles, each a real command, validated offline."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"web", "worker-cpu", "worker-gpu", "beat", "flower"}


def procfile() -> dict[str, str]:
    from honcho.environ import parse_procfile

    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


def test_procfile_has_every_role_and_each_is_a_mindq_command():
    roles = procfile()
    assert set(roles) == ROLES
    from mindq.cli import build_parser

    for name, cmd in roles.items():
        args = cmd.replace("${MINDQ_GPUS:-auto}", "auto").split()
        assert args[0] == "mindq", cmd
        parsed = build_parser().parse_args(args[1:])  # exits (fails the test) on an unknown command
        assert callable(parsed.func), name
    help_text = subprocess.run([sys.executable, "-m", "mindq.cli", "--help"], capture_output=True,
                               text=True, cwd=ROOT).stdout
    for sub in ("up", "web", "worker", "beat", "flower", "migrate", "model", "tenant"):
        assert sub in help_text


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_against_the_compose_specification():
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text())
    doc = compose()
    # the spec names its draft as ".../2019-09/schema#", which jsonschema does not look up: say it
    jsonschema.Draft201909Validator(schema).validate(doc)


def test_compose_runs_the_procfile_roles_with_real_images():
    services = compose()["services"]
    assert ROLES <= set(services)
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert "noeviction" in services["redis"]["command"] and "--appendonly" in services["redis"]["command"]
    roles = procfile()
    for role in ROLES:
        command = " ".join(services[role]["command"])
        assert command.split()[:2] == roles[role].split()[:2], role
    gpu = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["count"] == 1
    for role in ROLES:
        env = services[role]["environment"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "MINDQ_ENCRYPTION_KEYS" in env


def test_docker_compose_config_when_available():
    """Debian's docker-compose validates the file fully when installed (CI installs it if it can)."""
    import shutil

    import pytest

    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose not installed; the JSON-schema test above still ran")
    env = {"POSTGRES_PASSWORD": "x", "MINDQ_ENCRYPTION_KEYS": "k", "MINDQ_FLOWER_PASSWORD": "p", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], env=env,
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
