import json

import pytest

from forecasting.artefacts import ArtefactError, files_sha256, read_info
from forecasting.simulator import simulate_cohort
from forecasting.training import load, load_latest, train


def _payload():
    p = simulate_cohort(1, seed=21)[0]
    return {"instrument": "PHQ-9", "observations": p.observations("PHQ-9")[:9], "horizon": 4}


def test_info_and_layout(forecast_info, artefact_dir):
    assert forecast_info.path == artefact_dir / "symptom-forecast" / forecast_info.version
    assert forecast_info.sha256[:8] in forecast_info.version
    assert {"attention.safetensors", "lightgbm.txt", "model.json", "metadata.json"} <= {
        f.name for f in forecast_info.path.iterdir()}
    assert files_sha256(forecast_info.path) == forecast_info.sha256
    meta = json.loads((forecast_info.path / "metadata.json").read_text())
    assert meta["sha256"] == forecast_info.sha256 and meta["metrics"] == forecast_info.metrics


def test_round_trip_gives_identical_predictions(forecast_info, forecaster):
    again = load("forecast", forecast_info.path)
    assert again.predict(_payload()) == forecaster.predict(_payload())
    assert load_latest("forecast", forecast_info.path.parent.parent).version == forecast_info.version


def test_tampered_artefact_is_refused(forecast_info, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(forecast_info.path, copy)
    read_info(copy)  # an intact copy verifies
    (copy / "model.json").write_text((copy / "model.json").read_text().replace('"weights"', '"weights" '))
    with pytest.raises(ArtefactError, match="hash"):
        load("forecast", copy)
    with pytest.raises(ArtefactError, match="not 'deterioration'"):
        load("deterioration", forecast_info.path)


@pytest.mark.parametrize("kind", ["forecast", "deterioration"])
def test_same_seed_same_hash(tmp_path, kind):
    a = train(kind, tmp_path / "a", n_patients=40, seed=3)
    b = train(kind, tmp_path / "b", n_patients=40, seed=3)
    assert a.sha256 == b.sha256
    assert load(kind, a.path).version == a.version
