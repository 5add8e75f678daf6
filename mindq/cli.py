"""The ``mindq`` command."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path


def _settings():
    from core import config

    return config.settings()


def cmd_up(args) -> int:
    from mindq.stack import up

    return up(demo=not args.no_demo, roles=args.roles.split(",") if args.roles else None)


def cmd_migrate(args) -> int:
    from migrations.runner import upgrade

    upgrade(_require_db())
    print("migrated to head")
    return 0


def _require_db() -> str:
    url = _settings().database_url
    if not url:
        sys.exit("DATABASE_URL is not set")
    return url


def gunicorn_cmd(bind: str, workers: int, connections: int, graceful_s: int = 10) -> list[str]:
    """The web role's command line (the tests run this very one)."""
    # gevent, and the API's JSON error body for what gunicorn refuses before Flask sees it
    return [sys.executable, "-m", "gunicorn", "api.wsgi:app", "-k", "api.gunicorn_worker.JsonErrorWorker",
            "-w", str(workers),
            "--worker-connections", str(connections), "-b", bind, "--timeout", "60",
            "--graceful-timeout", str(graceful_s), "--keep-alive", "75",
            # one JSON object a line, every field escaped (gunicorn's format string is not)
            "--access-logfile", "-", "--logger-class", "api.accesslog.JsonAccessLogger"]


def cmd_web(args) -> int:
    s = _settings()
    argv = gunicorn_cmd(f"{s.api_host}:{s.api_port}", args.workers or s.web_workers, s.web_connections)
    os.execv(sys.executable, argv)


def cmd_worker(args) -> int:
    from worker import launch

    s = _settings()
    if args.gpus:
        os.environ["MINDQ_GPUS"] = args.gpus  # the worker processes inherit it
        s = dataclasses.replace(s, gpus=args.gpus)
    return launch.run_cpu(s) if args.kind == "cpu" else launch.run_gpu(s)


def cmd_beat(args) -> int:
    s = _settings()
    s.home.mkdir(parents=True, exist_ok=True)
    os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "worker.main", "beat",
                              "-s", str(s.home / "celerybeat-schedule"), "--loglevel", "INFO"])


def cmd_flower(args) -> int:
    s = _settings()
    password = s.flower_password or s.bootstrap_key
    if not password:
        sys.exit("set MINDQ_FLOWER_PASSWORD (or MINDQ_BOOTSTRAP_KEY): Flower never runs without auth")
    # the password goes in the environment, not argv, where any local user could read it in ps
    env = {**os.environ, "FLOWER_BASIC_AUTH": f"mindq:{password}"}
    # Celery's command line, with /metrics and /healthcheck behind the same auth (mindq/flower.py)
    os.execve(sys.executable, [sys.executable, "-m", "mindq.flower", "-A", "tasks.app", "flower",
                               f"--port={s.flower_port}", f"--address={s.api_host}",
                               "--persistent=False", "--purge_offline_workers=60"], env)


def cmd_model(args) -> int:
    if args.model_cmd == "build-tiny":
        from llm.tiny import build_tiny

        base, adapter = build_tiny(Path(args.dir), size=args.size)
        print(json.dumps({"base": str(base), "adapter": str(adapter)}))
        return 0
    if args.model_cmd == "train-demo":
        return _train_demo(args)
    if args.model_cmd == "train":
        from tasks.forecast_models import ForecastModelError, train_and_register, train_from_database, train_from_file

        _require_db()
        if args.tenant is not None and not args.from_db:
            sys.exit("mindq model train: --tenant goes with --from-db")
        if args.source is None and not args.from_db:
            info = train_and_register(args.kind, _settings())
        else:
            try:
                info = (train_from_database(args.kind, _settings(), args.tenant) if args.from_db
                        else train_from_file(args.kind, args.source, _settings()))
            except (ForecastModelError, ValueError, OSError) as exc:
                sys.exit(f"mindq model train: {exc}")
        print(json.dumps(info, default=str))
        return 0
    return 2


def _train_demo(args) -> int:
    """Reproduce the shipped demo model from a MentalLLaMA checkout (its train_data/ only)."""
    from tqdm import tqdm

    from mindq.demo_model.train import Recipe, train_demo
    from tasks.scrubbing import scrubber

    if not (args.imhi / "train_data" / "instruction_data").is_dir():
        sys.exit(f"mindq model train-demo: {args.imhi} has no train_data/instruction_data "
                 "(git clone https://github.com/SteveKGYang/MentalLLaMA)")
    bars: dict[str, tqdm] = {}

    def progress(stage: str, frac: float, info: dict) -> None:
        bar = bars.get(stage) or bars.setdefault(stage, tqdm(total=1000, desc=stage, unit="‰"))
        bar.update(int(frac * 1000) - bar.n)
        if info:
            bar.set_postfix(info)

    scrub = scrubber()
    card = train_demo(args.imhi, args.out, lambda text: scrub.scrub(text).text,
                      recipe=Recipe(threads=args.threads), progress=progress, limit=args.limit)
    for bar in bars.values():
        bar.close()
    print(json.dumps({"out": str(args.out), "validation": card["validation"]}, indent=2))
    return 0


def cmd_tenant(args) -> int:
    from jobstore import tenants
    from jobstore.db import make_engine

    engine = make_engine(_require_db(), pool_size=1)
    if args.action == "create":
        tenant_id = tenants.ensure_tenant(engine, args.name)
        scopes = tuple(s.strip() for s in args.scopes.split(",")) if args.scopes else tenants.DEFAULT_SCOPES
        unknown = sorted(set(scopes) - set(tenants.ALL_SCOPES))
        if unknown:
            print(f"mindq tenant: unknown scope(s) {', '.join(unknown)}; known: {', '.join(tenants.ALL_SCOPES)}",
                  file=sys.stderr)
            return 2
        key = tenants.add_key(engine, tenant_id, scopes=scopes)
        print(json.dumps({"tenant": args.name, "tenant_id": str(tenant_id), "api_key": key, "scopes": scopes}))
        return 0
    revoked = tenants.revoke_key(engine, args.key, actor="cli")
    if revoked is None:
        print(json.dumps({"revoked": False, "reason": "no live key with this prefix"}))
        return 1
    from jobstore import runtime

    prefix = tenants.key_prefix(args.key)
    try:  # web processes drop the key from their caches now, not in up to 30 s
        runtime.redis_client().publish(tenants.REVOCATIONS, prefix)
    except Exception as exc:
        print(f"mindq tenant: revoked, but not announced ({type(exc).__name__}); "
              "caches forget it within 30 s", file=sys.stderr)
    print(json.dumps({"revoked": True, "prefix": prefix, "tenant_id": str(revoked)}))
    return 0


def cmd_demo(args) -> int:
    from mindq.demo import run_demo

    s = _settings()
    info = json.loads((s.home / "stack.json").read_text())
    key = s.bootstrap_key or (s.home / "secrets" / "demo-api.key").read_text().strip()
    run_demo(info["api"], key, lambda m: print(f"mindq | {m}", flush=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mindq", description="mental-health analysis job platform")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up", help="start the whole stack (embedded Redis/PostgreSQL unless configured)")
    p.add_argument("--no-demo", action="store_true")
    p.add_argument("--roles", help="comma-separated subset of web,worker-cpu,worker-gpu,beat,flower")
    p.set_defaults(func=cmd_up)
    sub.add_parser("migrate", help="alembic upgrade head").set_defaults(func=cmd_migrate)
    p = sub.add_parser("web", help="the API under gunicorn (gevent workers, for SSE)")
    p.add_argument("--workers", type=int)
    p.set_defaults(func=cmd_web)
    p = sub.add_parser("worker", help="a Celery worker")
    p.add_argument("kind", choices=["cpu", "gpu"])
    p.add_argument("--gpus", help="gpu workers: all | auto | none | 0,1")
    p.set_defaults(func=cmd_worker)
    sub.add_parser("beat", help="Celery beat (the reconciler)").set_defaults(func=cmd_beat)
    sub.add_parser("flower", help="Flower, behind basic auth").set_defaults(func=cmd_flower)
    p = sub.add_parser("model", help="models")
    msub = p.add_subparsers(dest="model_cmd", required=True)
    b = msub.add_parser("build-tiny", help="build a tiny random LLaMA + tokenizer + LoRA into DIR")
    b.add_argument("dir")
    b.add_argument("--size", default="tiny", choices=["tiny", "small"])
    d = msub.add_parser("train-demo", help="train the demo LLaMA + LoRA on MentalLLaMA's IMHI train data "
                        "(reproduces models/mindq-demo)")
    d.add_argument("--imhi", type=Path, required=True, help="a MentalLLaMA checkout (github.com/SteveKGYang/MentalLLaMA)")
    d.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "models" / "mindq-demo")
    d.add_argument("--threads", type=int, default=1)
    d.add_argument("--limit", type=int, default=None, help="cap the training examples (a quick smoke build)")
    t = msub.add_parser("train", help="train and register a forecasting model")
    t.add_argument("kind", choices=["forecast", "deterioration"])
    origin = t.add_mutually_exclusive_group()
    origin.add_argument("--from", dest="source", type=Path, metavar="FILE.jsonl",
                        help="train on the deployment's series (one job payload a line) instead of simulated "
                             "patients; active only if its backtest beats the last value and the active version")
    origin.add_argument("--from-db", action="store_true",
                        help="train, with the same promotion rule, on the series that succeeded forecast and "
                             "deterioration jobs brought in (one history per patient ref and instrument)")
    t.add_argument("--tenant", help="with --from-db: only this tenant's jobs (default: every tenant's)")
    p.set_defaults(func=cmd_model)
    p = sub.add_parser("tenant", help="tenants and their API keys")
    tsub = p.add_subparsers(dest="action", required=True)
    c = tsub.add_parser("create", help="create a tenant (or add a key to one); prints the new API key")
    c.add_argument("name")
    c.add_argument("--scopes", help="comma-separated; default: jobs:write,jobs:read,batches:write (admin only "
                   "when asked for)")
    r = tsub.add_parser("revoke", help="revoke an API key, given whole or by its prefix; effective at once")
    r.add_argument("key")
    p.set_defaults(func=cmd_tenant)
    sub.add_parser("demo", help="submit the demo jobs to a running stack").set_defaults(func=cmd_demo)
    from mindq.usercmds import add_commands

    add_commands(sub)  # submit, batch, status: the API's users' commands
    from mindq.journals_cli import register as add_journal_commands

    add_journal_commands(sub)  # journals reanalyze | schedule
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
