"""statsforecast members of the forecasting ensemble (issue 15): what they forecast, that a fitted model
refits only the members it weighs, and that artefacts from before them still load. No model is trained."""
from __future__ import annotations

import json
import math

import lightgbm as lgb
import numpy as np
import pytest
from statsforecast.models import SimpleExponentialSmoothingOptimized

from forecasting.artefacts import ArtefactError, finalise, write_json
from forecasting.attention import WindowAttention
from forecasting.backtest import parse_series, series_windows
from forecasting.families import generate
from forecasting.forecast_features import GBM_FEATURES
from forecasting.forecaster import MAX_GRID, MEMBERS, STATS_MEMBERS, ForecastEnsemble, _simplex
from forecasting.schemas import H_MAX
from forecasting.stats_members import filled, stats_forecasts
from forecasting.training import _save_forecast, load


def _windows(n: int = 3):
    return series_windows(parse_series(generate("mean_reverting", n, 7))[0])


def _ensemble(stats_weight: dict[str, float]) -> ForecastEnsemble:
    rng = np.random.default_rng(0)
    x, y = rng.random((200, len(GBM_FEATURES))), rng.normal(0, 0.01, 200)
    booster = lgb.train({"objective": "l1", "num_leaves": 2, "verbose": -1, "min_data_in_leaf": 20},
                        lgb.Dataset(x, y, feature_name=GBM_FEATURES), num_boost_round=2)
    weights = np.zeros((H_MAX, len(MEMBERS)))
    weights[:, MEMBERS.index("last_value")] = 1.0 - sum(stats_weight.values())
    for m, v in stats_weight.items():
        weights[:, MEMBERS.index(m)] = v
    conformal = {"*": [0.1] * H_MAX}
    return ForecastEnsemble(WindowAttention(d_model=8, n_heads=2, n_layers=1).eval(), booster, weights, conformal,
                            np.zeros(H_MAX))


def test_filled_carries_missed_weeks_forward_from_the_first_visit():
    row = np.array([np.nan, np.nan, 0.2, np.nan, 0.5, np.nan, np.nan, 0.4])
    assert filled(row).tolist() == [0.2, 0.2, 0.5, 0.5, 0.5, 0.4]
    assert filled(np.full(4, np.nan)).size == 0


def test_members_are_statsforecast_fits_on_the_window():
    w = _windows()
    f = stats_forecasts(w, STATS_MEMBERS)
    assert f.shape == (len(w), H_MAX, len(STATS_MEMBERS))
    assert np.all((f >= 0) & (f <= 1))
    i = len(w) // 2
    expected = SimpleExponentialSmoothingOptimized().forecast(y=filled(w.grid[i]), h=H_MAX)["mean"]
    assert f[i, :, STATS_MEMBERS.index("ses")] == pytest.approx(expected)
    wa = f[i, 0, STATS_MEMBERS.index("window_average")]
    assert wa == pytest.approx(filled(w.grid[i])[-4:].mean())
    assert not np.allclose(f[:, 0, 0], w.last)  # the fits move away from the last value somewhere


def test_too_short_or_unfittable_windows_keep_the_last_value():
    w = _windows()
    w.grid[:2] = np.nan
    w.grid[:2, -2:] = [0.3, 0.4]  # two visits: nothing to fit
    f = stats_forecasts(w.subset(np.arange(len(w)) < 2), STATS_MEMBERS)
    assert np.allclose(f, 0.4)


def test_a_fitted_model_refits_only_the_members_it_weighs():
    w = _windows()
    model = _ensemble({"ses": 0.5})
    m = model.members(w)
    fits = stats_forecasts(w, ("ses",))[:, :, 0]
    assert np.allclose(m[:, :, MEMBERS.index("ses")], fits)
    for name in set(STATS_MEMBERS) - {"ses"}:  # unweighted: not fitted, read as the last value
        assert np.allclose(m[:, :, MEMBERS.index(name)], w.last[:, None])
    assert np.allclose(model.point(w, m), np.clip(0.5 * w.last[:, None] + 0.5 * fits, 0, 1))


def test_weight_search_stays_bounded_with_more_members():
    grid = _simplex(0.05, len(MEMBERS))
    assert len(grid) <= MAX_GRID
    assert np.allclose(grid.sum(1), 1.0) and (grid >= 0).all()
    assert len(_simplex(0.05, 4)) == math.comb(23, 3)  # the four original members keep their 0.05 steps


def test_an_artefact_from_before_the_statsforecast_members_loads(tmp_path):
    model = _ensemble({})
    staging = tmp_path / "staging"
    staging.mkdir()
    _save_forecast(model, staging)
    spec = json.loads((staging / "model.json").read_text())
    old = [MEMBERS.index(m) for m in ("attention", "lightgbm", "last_value", "recent_mean")]
    spec["members"] = [MEMBERS[j] for j in old]
    spec["weights"] = np.asarray(spec["weights"])[:, old].tolist()
    write_json(staging / "model.json", spec)
    info = finalise(staging, tmp_path / "out", "symptom-forecast", {}, {})
    loaded = load("forecast", info.path)
    assert np.array_equal(loaded.model.weights, model.weights)

    staging = tmp_path / "staging2"
    staging.mkdir()
    _save_forecast(_ensemble({}), staging)
    spec = json.loads((staging / "model.json").read_text())
    spec["members"][-1] = "a_member_from_the_future"
    spec["weights"] = [[*row[:-2], 0.5, 0.5] for row in spec["weights"]]
    write_json(staging / "model.json", spec)
    info = finalise(staging, tmp_path / "out", "symptom-forecast", {}, {})
    with pytest.raises(ArtefactError, match="a_member_from_the_future"):
        load("forecast", info.path)
