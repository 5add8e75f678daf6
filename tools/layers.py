"""Fail on any import that runs up the layers, or on any import cycle between modules.

Counts every import statement, those inside functions too (an import deferred into a function
still makes the lower layer depend on the upper one). Run: ``python tools/layers.py``.

Written by hand rather than with import-linter: its layer contracts cover packages, but not
cycles between the modules of one package, which the tasks/analysis <-> tasks/handlers kind of
tangle needs; the whole check is one AST walk.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bottom-up; a package may import only packages of a lower rank (and itself)
LAYERS: list[tuple[str, ...]] = [
    ("core",),  # configuration, logging, error codes: leaves everyone may import
    ("phi", "prompts", "forecasting", "llm"),  # pure libraries: no Flask, Celery, SQL or Redis
    ("jobstore",),  # the store: tables, services, events, worker registry, model registry
    ("migrations",),  # Alembic, over jobstore's tables
    ("tasks",),  # the job layer: Celery app, routing, base task, handlers, model holders
    ("worker", "api"),  # entry points: worker processes and the HTTP API
    ("mindq",),  # the CLI and the embedded stack, which start all of the above
    ("bench",),  # benchmarks may use anything
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for pkg in RANK:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """(module imported, line) for every import in the file that names one of ours."""
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import mod` depends on pkg.mod when that is a module of ours
            subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
            targets = subs if len(subs) == len(node.names) else [module, *subs]
        for target in targets:
            while target and target not in known:  # `import a.b.c` where a.b.c is an attribute
                target = target.rpartition(".")[0]
            if target and target.split(".")[0] in RANK:
                out.append((target, node.lineno))
    return out


def upward(graph: dict[str, list[tuple[str, int]]], known: dict[str, Path]) -> list[str]:
    errors = []
    for src, targets in sorted(graph.items()):
        for dst, line in targets:
            a, b = src.split(".")[0], dst.split(".")[0]
            if a != b and RANK[b] >= RANK[a]:
                rel = known[src].relative_to(ROOT)
                errors.append(f"{rel}:{line}: {src} imports {dst} ({a} may not import {b})")
    return errors


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = {m: sorted({d for d, _ in ts if d != m}) for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def main() -> int:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    problems = upward(graph, known)
    problems += [f"import cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    for line in problems:
        print(line)
    print(f"layers: {len(known)} modules, {sum(map(len, graph.values()))} imports, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
