"""Symptom forecasting, deterioration risk and biometric correlation (issue 6).

A pure modelling package: no Flask, Celery or SQL imports. The job layer calls
``forecasting.service`` with a JSON payload and a predictor loaded by
``forecasting.training.load``.
"""
