"""The layer check itself: it must find an upward import (also one inside a function) and a
cycle between modules, and find neither in the repository."""
from __future__ import annotations

from pathlib import Path

from tools import layers


def test_the_repository_has_no_upward_import_and_no_cycle(capsys):
    assert layers.main() == 0, capsys.readouterr().out


def _module(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / (name.replace(".", "_") + ".py")
    path.write_text(source)
    return path


def test_an_import_inside_a_function_that_runs_upward_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(layers, "ROOT", tmp_path)
    known = {
        "phi.detector": _module(tmp_path, "phi.detector", "def f():\n    from tasks import app\n    return app\n"),
        "tasks.app": _module(tmp_path, "tasks.app", "import phi.detector\n"),
    }
    graph = {name: layers.imports(name, path, known) for name, path in known.items()}
    assert graph["phi.detector"] == [("tasks.app", 2)]
    [problem] = layers.upward(graph, known)
    assert "phi.detector imports tasks.app" in problem and ":2:" in problem


def test_a_cycle_between_modules_of_one_package_is_reported():
    graph = {"tasks.analysis": [("tasks.handlers", 1)], "tasks.handlers": [("tasks.analysis", 9)],
             "tasks.app": [("tasks.handlers", 3)]}
    assert layers.cycles(graph) == [["tasks.analysis", "tasks.handlers"]]
    assert layers.cycles({"tasks.app": [("tasks.handlers", 3)], "tasks.handlers": []}) == []


def test_a_relative_import_resolves_to_the_module_it_names(tmp_path, monkeypatch):
    monkeypatch.setattr(layers, "ROOT", tmp_path)
    known = {"jobstore.events": tmp_path / "e.py", "jobstore.tables": tmp_path / "t.py"}
    known["jobstore.events"].write_text("from .tables import TERMINAL_STATES\n")
    assert layers.imports("jobstore.events", known["jobstore.events"], known) == [("jobstore.tables", 1)]
