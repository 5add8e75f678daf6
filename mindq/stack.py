"""``mindq up``: the whole stack in the foreground, with its demo; Ctrl-C stops everything.

Embedded Redis and PostgreSQL when REDIS_URL / DATABASE_URL are unset, migrations, the demo
tenant, the tiny model, then the roles of the Procfile as child processes: web (gunicorn +
gevent for SSE), worker-cpu, worker-gpu, beat, flower. Ready once /health/ready says so; then
``$MINDQ_HOME/stack.json`` is written (mode 0600: its URLs hold the embedded servers' passwords).
Every child is supervised (mindq.supervisor): one that dies is started again.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sys
import time
import urllib.request
from pathlib import Path

from core.config import Settings, load_settings
from jobstore.runtime import read_or_create_secret
from llm.card import read_card
from mindq.embedded import start_postgres, start_redis
from mindq.supervisor import Supervisor

PY = sys.executable


def role_commands(s: Settings) -> dict[str, list[str]]:
    """The Procfile's roles as argument lists (the Procfile itself calls the same `mindq` commands)."""
    return {
        "web": [PY, "-m", "mindq.cli", "web"],
        "worker-cpu": [PY, "-m", "mindq.cli", "worker", "cpu"],
        "worker-gpu": [PY, "-m", "mindq.cli", "worker", "gpu", "--gpus", s.gpus],
        "beat": [PY, "-m", "mindq.cli", "beat"],
        "flower": [PY, "-m", "mindq.cli", "flower"],
    }


class Stack:
    def __init__(self, settings: Settings, *, roles: list[str] | None = None):
        self.s = settings
        self.roles = roles
        self.supervisor = Supervisor(settings.home, self.say)

    def say(self, message: str) -> None:
        print(f"mindq | {message}", flush=True)

    def prepare(self) -> dict[str, str]:
        """Start the data services, migrate, seed; returns the environment for the roles."""
        s = self.s
        s.home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["MINDQ_HOME"] = str(s.home)
        if not s.encryption_keys:
            from jobstore.crypto import Cipher

            env["MINDQ_ENCRYPTION_KEYS"] = read_or_create_secret(s.home / "secrets" / "encryption.key", Cipher.generate_key)
        if not s.metrics_token:  # Prometheus scrapes /metrics with it (admin API keys may read it too)
            env["MINDQ_METRICS_TOKEN"] = read_or_create_secret(s.home / "secrets" / "metrics.token",
                                                               lambda: secrets.token_urlsafe(32))
        from jobstore.tenants import new_key

        key_file = s.home / "secrets" / "demo-api.key"
        key = s.bootstrap_key or read_or_create_secret(key_file, new_key)
        redis_url, database_url = s.redis_url, s.database_url
        if not redis_url:
            svc = start_redis(s.home / "redis", s.redis_port, secrets_dir=s.home / "secrets")
            self.supervisor.add_service(svc)
            redis_url = svc.url
            self.say(f"embedded redis-server (AOF on, noeviction, password) at {_masked(redis_url)}")
        if not database_url:
            svc = start_postgres(s.home / "postgres", s.pg_port, secrets_dir=s.home / "secrets")
            self.supervisor.add_service(svc)
            database_url = svc.url
            self.say(f"embedded PostgreSQL (password) at {_masked(database_url)}")
        env["REDIS_URL"], env["DATABASE_URL"] = redis_url, database_url
        prom = s.home / "prometheus"
        shutil.rmtree(prom, ignore_errors=True)
        prom.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(prom)

        from migrations.runner import upgrade

        upgrade(database_url)
        self.say("database migrated to head")
        key = self._bootstrap(database_url, key, key_file)
        env["MINDQ_BOOTSTRAP_KEY"] = key
        if "MODEL_BASE_PATH" not in os.environ:
            if s.model.base_path.parent == s.home / "models" / "tiny":
                ensure_tiny_model(s.home / "models")
                self.say("model: the shipped demo model is missing; serving a tiny RANDOM model (answers are noise)")
            self.say(f"model: {s.model.base_path} + {s.model.adapter_path}")
        card = read_card(s.model.base_path)
        if card.is_demo:
            self.say(f"model: {card.name} v{card.version} is a DEMO model trained on public forum data "
                     f"(answers {', '.join(card.answers or ())}); not for clinical use")
        self.key, self.env = key, env
        return env

    def _bootstrap(self, database_url: str, key: str, key_file: Path) -> str:
        """Tenant `demo` with the bootstrap key. A revoked key stays revoked: one generated into
        the secrets file is replaced by a new key; one given in MINDQ_BOOTSTRAP_KEY stops the start."""
        from jobstore.tenants import KeyRevoked, new_key

        try:
            bootstrap_tenant(database_url, "demo", key)
            return key
        except KeyRevoked:
            if self.s.bootstrap_key:
                raise SystemExit("mindq: MINDQ_BOOTSTRAP_KEY was revoked; set a new key") from None
        key_file.unlink(missing_ok=True)
        key = read_or_create_secret(key_file, new_key)
        bootstrap_tenant(database_url, "demo", key)
        self.say(f"the demo key was revoked: a new one is in {key_file}")
        return key

    def start_roles(self) -> None:
        for name, cmd in role_commands(self.s).items():
            if self.roles and name not in self.roles:
                continue
            self.supervisor.add_role(name, cmd, self.env)
        self.supervisor.publish()

    def wait_ready(self, timeout: float = 900) -> dict:  # a first start trains default models
        api = f"http://{self.s.api_host}:{self.s.api_port}"
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.supervisor.check()
            try:
                with urllib.request.urlopen(api + "/health/ready", timeout=5) as resp:
                    if resp.status == 200:
                        return json.loads(resp.read())
            except Exception as exc:  # not up yet, or 503 while workers start
                last = exc
            time.sleep(0.5)
        raise RuntimeError(f"stack not ready after {timeout}s: {last}")

    def write_stack_json(self) -> Path:
        info = {"api": f"http://{self.s.api_host}:{self.s.api_port}",
                "flower": f"http://{self.s.api_host}:{self.s.flower_port}",
                "redis_url": self.env["REDIS_URL"], "database_url": self.env["DATABASE_URL"]}
        path = self.s.home / "stack.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(info, indent=2))
        tmp.replace(path)
        return path

    def stop(self) -> None:
        (self.s.home / "stack.json").unlink(missing_ok=True)
        self.supervisor.stop()
        self.say("stopped")


def _masked(url: str) -> str:
    return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)


def bootstrap_tenant(database_url: str, name: str, key: str) -> None:
    """Tenant ``name`` with ``key`` (all scopes). Raises tenants.KeyRevoked for a revoked key."""
    from jobstore import tenants
    from jobstore.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        tenant_id = tenants.ensure_tenant(engine, name)
        tenants.add_key(engine, tenant_id, key, scopes=tenants.ALL_SCOPES)  # the operator's own key
    finally:
        engine.dispose()


def ensure_tiny_model(models_dir: Path) -> None:
    if (models_dir / "tiny" / "base" / "config.json").exists():
        return
    from llm.tiny import build_tiny

    build_tiny(models_dir / "tiny")


def up(demo: bool = True, roles: list[str] | None = None) -> int:
    stack = Stack(load_settings(), roles=roles)

    def _terminate(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        stack.prepare()
        stack.start_roles()
        ready = stack.wait_ready()
        path = stack.write_stack_json()
        stack.say(f"ready: API http://{stack.s.api_host}:{stack.s.api_port} (browser page at /ui/, docs at /docs), "
                  f"Flower http://{stack.s.api_host}:{stack.s.flower_port} (user mindq, password = API key)")
        stack.say(f"demo API key: {stack.key}")
        stack.say(f"workers: {', '.join(w['hostname'] for w in ready.get('workers', []))}; wrote {path}")
        if demo:
            from mindq.demo import run_demo

            run_demo(f"http://{stack.s.api_host}:{stack.s.api_port}", stack.key, stack.say)
        stack.say("running; Ctrl-C stops every process")
        while True:
            stack.supervisor.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        stack.say("stopping")
        return 0
    except Exception as exc:
        stack.say(f"error: {exc}")
        return 1
    finally:
        stack.stop()
