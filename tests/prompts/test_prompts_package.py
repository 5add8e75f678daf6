import json
import subprocess
import sys
from importlib import resources

import prompts

FORBIDDEN = ("flask", "celery", "sqlalchemy", "psycopg", "redis", "torch", "transformers",
             "peft", "mindq", "worker", "tasks", "jobstore", "phi")


def test_prompts_imports_nothing_heavy_or_from_mindq():
    code = "import sys, json, prompts; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert not [m for m in loaded if m.split(".")[0] in FORBIDDEN]


def test_every_type_has_its_template_file_and_no_file_is_orphaned():
    folder = resources.files("prompts").joinpath("templates")
    files = {entry.name for entry in folder.iterdir() if entry.name.endswith(".txt")}
    assert files == {spec.template_file for spec in prompts.ANALYSIS_TYPES.values()}


def test_analysis_types_serialise_for_the_api():
    listing = [spec.to_dict() for spec in prompts.ANALYSIS_TYPES.values()]
    assert json.loads(json.dumps(listing)) == listing
    irf = prompts.ANALYSIS_TYPES["imhi.irf"].to_dict()
    assert irf["choices"][0]["name"] == "risk_factor"
    assert prompts.ANALYSIS_TYPES["progress"].inputs == ("text", "previous_text")
    assert prompts.ANALYSIS_TYPES["risk"].extra_result_keys == ("requires_attention",)


def test_templates_folder_is_a_package_so_wheels_ship_it():
    # setup.cfg's package_data `*.txt` covers packages only, not plain sub-folders.
    import importlib

    assert importlib.import_module("prompts.templates").__file__
