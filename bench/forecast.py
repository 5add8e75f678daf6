"""Benchmark of the issue-6 models on held-out simulated patients, in one run.

    nice .venv/bin/python -m bench.forecast [--eval-patients 200] [--seed 0] [--eval-seed N] [--ablation]
                                            [--json out.json]
    nice .venv/bin/python -m bench.forecast --families [--train-on trend_relapse,mean_reverting]

``--families`` (issue 15) skips the above and scores the served forecast (per-series fallback
included) against the last value on every generator family of ``forecasting.families``: the
default model (fitted on ``forecasting.simulator``), and a model trained like
`mindq model train forecast --from` on 300 series of each ``--train-on`` family (seed 1234) with its
backtest verdict; then the same for the deterioration model (the default, and one trained like
`mindq model train deterioration --from` on each ``--train-on`` family), AUROC and ECE of the
served model beside its logistic baseline on every family. Test series are drawn with
``--eval-seed`` (never used to fit or tune anything).

Trains the default forecast and deterioration artefacts (timed), then prints: MAE per
horizon of the ensemble, its members and the naive baselines; the gain over the best
naive baseline at h=1 and h=4 with a patient-bootstrap 95% CI; conformal coverage and mean
width vs the naive empirical interval; deterioration AUROC / ECE / Brier (GRU vs logistic, and
with --ablation the same model without its GRU, trained on the same patients);
lag recovery of the correlation job; and single-threaded throughput per core.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from forecasting.datasets import deterioration_samples, split_patients
from forecasting.deterioration import fit_deterioration
from forecasting.evaluation import (
    EVAL_SEED,
    evaluate_correlation,
    evaluate_deterioration,
    evaluate_forecast,
    throughput,
)
from forecasting.service import run_biometric_correlation, run_deterioration, run_forecast
from forecasting.simulator import simulate_cohort, simulate_patient
from forecasting.training import DEFAULT_PATIENTS, SPLIT, load, train


def _forecast_table(rep: dict) -> None:
    print(f"\n== forecast, {rep['instrument']}: {rep['n_windows']} held-out windows from {rep['n_patients']} patients "
          f"(MAE in points) ==")
    print(" h   ensemble attention lightgbm last_val  mean_3  best_naive        gain   coverage width  "
          "naive_cov naive_width")
    for r in rep["horizons"]:
        print(f"{r['horizon']:2d}   {r['mae_ensemble']:7.3f}  {r['mae_attention']:7.3f}  {r['mae_lightgbm']:7.3f}  "
              f"{r['mae_last_value']:7.3f}  {r['mae_recent_mean']:7.3f}  {r['mae_best_naive']:6.3f} "
              f"{r['best_naive']:11s} {r['gain_vs_best_naive']:+.3f}  "
              f"{r['coverage']:6.3f}  {r['mean_width']:6.2f}   {r['naive_interval_coverage']:6.3f}  "
              f"{r['naive_interval_mean_width']:6.2f}")
    for r in rep["horizons"]:
        if "gain_ci95" in r:
            lo, hi = r["gain_ci95"]
            best = r["mae_best_naive"]
            print(f"gain at h={r['horizon']} vs best naive ({r['best_naive']}): {r['gain_vs_best_naive']:+.3f} points "
                  f"({100 * r['gain_vs_best_naive'] / best:.1f}%), 95% CI over patients [{lo:+.3f}, {hi:+.3f}]")


def _no_gru_ablation(seed: int):
    """The served deterioration model without its GRU (head on the engineered features only), fitted
    exactly like the default artefact on the same simulated patients."""
    n = DEFAULT_PATIENTS["deterioration"]
    parts = split_patients(simulate_cohort(n, seed), SPLIT, seed)
    models, _ = fit_deterioration(*(deterioration_samples(p) for p in parts), seed=seed, recurrent=False)
    return lambda s: models.gru.proba(s.sequence, s.features)


def _families(args) -> dict:
    from forecasting.backtest import evaluate_served, parse_series
    from forecasting.families import FAMILIES, generate
    from forecasting.training import train_from_series

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        default = load("forecast", train("forecast", Path(tmp), seed=args.seed).path)
        print(f"default model trained in {time.perf_counter() - t0:.1f} s (simulator, seed {args.seed})")
        tests = {f: parse_series(generate(f, args.eval_patients, args.eval_seed))[0] for f in FAMILIES}
        models = {"default": default.model}
        for fam in [f for f in (args.train_on or "").split(",") if f]:
            series = parse_series(generate(fam, 300, 1234))[0]
            t0 = time.perf_counter()
            info, decision = train_from_series(series, Path(tmp), active=default, threads=2)
            secs = time.perf_counter() - t0
            out[f"trained_{fam}"] = {"seconds": secs, "decision": decision, "backtest": info.metrics["backtest"]}
            print(f"\ntrained on {fam} (300 series) in {secs:.1f} s, 2 threads: {decision['decision']} "
                  f"{decision['reasons'][:2]}")
            print(" h  backtest MAE  last value  active   coverage  width")
            for r in info.metrics["backtest"]:
                print(f"{r['horizon']:2d}  {r['mae']:8.3f}  {r['mae_last_value']:8.3f}  {r['mae_active']:8.3f}  "
                      f"{r['coverage']:7.3f}  {r['mean_width']:6.2f}")
            models[f"trained:{fam}"] = load("forecast", info.path).model
        print(f"\n== served forecast vs last value, {args.eval_patients} series per family, seed {args.eval_seed} "
              "(gain = 1 - MAE / MAE of last value; coverage of the 90% intervals) ==")
        print(f"{'model':26s} {'family':15s}  gain h1  gain h4   MAE h1  last h1   MAE h4  last h4  cov h1  cov h4")
        for name, model in models.items():
            for fam, series in tests.items():
                r = evaluate_served(model, series)
                out.setdefault("families", {}).setdefault(name, {})[fam] = r
                a, b = r[0], r[3]
                print(f"{name:26s} {fam:15s}  {a['gain_vs_last_value']:+.3f}   {b['gain_vs_last_value']:+.3f}   "
                      f"{a['mae']:6.3f}  {a['mae_last_value']:6.3f}  {b['mae']:6.3f}  {b['mae_last_value']:6.3f}  "
                      f"{a['coverage']:.3f}   {b['coverage']:.3f}")
        out["deterioration_families"] = _deterioration_families(args, Path(tmp))
    return out


def _deterioration_families(args, tmp: Path) -> dict:
    """The deterioration models off their own population: the default (simulator) and one trained
    on each --train-on family, scored on every family's held-out series beside the logistic
    baseline fitted with them (AUROC: ranking; ECE: calibration of the served probability)."""
    from forecasting.deterioration_backtest import parse_deterioration, samples_from, scores
    from forecasting.families import FAMILIES, generate
    from forecasting.training import train_deterioration_from_series

    t0 = time.perf_counter()
    models = {"default": load("deterioration", train("deterioration", tmp, seed=args.seed).path)}
    print(f"\ndefault deterioration model trained in {time.perf_counter() - t0:.1f} s (simulator, seed {args.seed})")
    for fam in [f for f in (args.train_on or "").split(",") if f]:
        series = parse_deterioration(generate(fam, 300, 1234))[0]
        info, decision = train_deterioration_from_series(series, tmp, threads=2)
        models[f"trained:{fam}"] = load("deterioration", info.path)
        print(f"deterioration trained on {fam} (300 series): {decision['decision']} {decision['reasons'][:2]}")
    tests = {f: samples_from(parse_deterioration(generate(f, args.eval_patients, args.eval_seed))[0]) for f in FAMILIES}
    print(f"\n== deterioration, {args.eval_patients} series per family, seed {args.eval_seed}: served model vs its "
          "logistic baseline ==")
    print(f"{'model':26s} {'family':15s} visits  pos rate  AUROC served  AUROC logistic  ECE served  ECE logistic")
    out: dict = {}
    for name, predictor in models.items():
        for fam, test in tests.items():
            proba = predictor.models.proba(test)
            served, logistic = scores(test.label, proba[predictor.models.served]), scores(test.label, proba["logistic"])
            out.setdefault(name, {})[fam] = {"n_samples": len(test), "positive_rate": float(test.label.mean()),
                                             "served": served, "logistic": logistic}
            if served["auroc"] is None or logistic["auroc"] is None:
                print(f"{name:26s} {fam:15s} {len(test):6d}  one outcome class only")
                continue
            print(f"{name:26s} {fam:15s} {len(test):6d}  {test.label.mean():8.3f}  {served['auroc']:12.3f}  "
                  f"{logistic['auroc']:14.3f}  {served['ece']:10.3f}  {logistic['ece']:12.3f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-patients", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--eval-seed", type=int, default=EVAL_SEED, help="seed of the held-out simulated patients")
    ap.add_argument("--ablation", action="store_true",
                    help="also fit and score the deterioration model without its GRU (about 15 s more)")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--families", action="store_true", help="issue 15: the served forecast on other generator families")
    ap.add_argument("--train-on", help="with --families: comma-separated families to train a model on")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out: dict = {}
    if args.families:
        out = _families(args)
        if args.json:
            args.json.write_text(json.dumps(out, indent=1, default=str))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("forecast", "deterioration"):
            t0 = time.perf_counter()
            info = train(kind, Path(tmp), seed=args.seed)
            out[f"train_{kind}"] = {"seconds": time.perf_counter() - t0, **info.to_dict()}
            print(f"trained {info.name} {info.version} in {time.perf_counter() - t0:.1f} s (1 thread)")
        fc = load("forecast", Path(out["train_forecast"]["path"]))
        det = load("deterioration", Path(out["train_deterioration"]["path"]))

        for instrument in ("PHQ-9", "GAD-7", "mood"):
            rep = evaluate_forecast(fc, n_patients=args.eval_patients, seed=args.eval_seed, instrument=instrument)
            out[f"forecast_{instrument}"] = rep
            _forecast_table(rep)

        extra = {"no_gru": _no_gru_ablation(args.seed)} if args.ablation else None
        rep = evaluate_deterioration(det, n_patients=args.eval_patients, seed=args.eval_seed, extra=extra)
        out["deterioration"] = rep
        print(f"\n== deterioration: {rep['n_samples']} held-out visits of {rep['n_patients']} patients "
              f"(seed {rep['seed']}), {rep['positive_rate']:.1%} worsen (served: {rep['served']}) ==")
        for name in ("gru", "logistic", *(extra or {})):
            r = rep[name]
            print(f"{name:9s} AUROC {r['auroc']:.4f}  ECE {r['ece']:.4f}  Brier {r['brier']:.4f}")
        lo, hi = rep["auroc_gain_ci95"]
        print(f"AUROC gain GRU - logistic: {rep['auroc_gain_gru_vs_logistic']:+.4f}, 95% CI [{lo:+.4f}, {hi:+.4f}]")
        for name in extra or {}:
            for base in ("logistic", "gru"):
                lo, hi = rep[f"auroc_gain_{name}_vs_{base}_ci95"]
                print(f"AUROC gain {name} - {base}: {rep[f'auroc_gain_{name}_vs_{base}']:+.4f}, "
                      f"95% CI [{lo:+.4f}, {hi:+.4f}]")

        rep = evaluate_correlation(n_patients=40, seed=args.eval_seed)
        out["correlation"] = rep
        print(f"\n== biometric correlation: {rep['n_patients']} simulated patients with wearables ==")
        print(f"planted sleep lag {rep['planted_sleep_lag_days']} d recovered in {rep['sleep_lag_recovered_rate']:.0%}; "
              f"null biometric (resting_hr) declared associated in "
              f"{rep['null_biometric_false_association_rate']:.0%}; hrv lag 0 in {rep['hrv_lag0_recovered_rate']:.0%}; "
              f"steps lag 1 in {rep['steps_lag1_recovered_rate']:.0%}")

        patients = [p for p in simulate_cohort(60, 4242) if len(p.visits["PHQ-9"][0]) >= 12]
        fpay = [{"instrument": "PHQ-9", "observations": p.observations("PHQ-9")[:12], "horizon": 8} for p in patients]
        # the per-series fallback rebuilds up to 16 earlier origins: a longer history costs more
        fpay30 = [{"instrument": "PHQ-9", "observations": p.observations("PHQ-9")[:30], "horizon": 8}
                  for p in patients if len(p.visits["PHQ-9"][0]) >= 30]
        dpay = [{"instrument": "PHQ-9", "observations": p.observations("PHQ-9")[:12],
                 "biometrics": p.biometric_records(0, 90)} for p in patients]
        rng = np.random.default_rng(1)
        cpay = []
        while len(cpay) < 10:
            p = simulate_patient(rng, len(cpay), n_weeks=26)
            if not p.biometric_records():
                continue  # a patient without a wearable has nothing to correlate
            cpay.append({"instrument": "mood", "symptoms": p.mood_observations(), "biometrics": p.biometric_records()})
        out["throughput_per_core"] = {
            "forecasts_per_s": throughput(lambda x: run_forecast(x, fc), fpay),
            "forecasts_30_per_s": throughput(lambda x: run_forecast(x, fc), fpay30),
            "deterioration_per_s": throughput(lambda x: run_deterioration(x, det), dpay),
            "correlations_per_s": throughput(run_biometric_correlation, cpay),
        }
        t = out["throughput_per_core"]
        print("\n== throughput, 1 thread, payload validation included (per CPU-second = per core; "
              "per wall-second = what this process got on the shared machine) ==")
        for label, key in (("forecast (12 visits, h=8)", "forecasts_per_s"),
                           ("forecast (30 visits, h=8)", "forecasts_30_per_s"),
                           ("deterioration (12 visits + 90 days of wearables)", "deterioration_per_s"),
                           ("correlation (26 weeks daily, 4 biometrics x 8 lags)", "correlations_per_s")):
            print(f"{label}: {t[key]['per_cpu_s']:.0f}/CPU-s, {t[key]['per_wall_s']:.0f}/wall-s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
