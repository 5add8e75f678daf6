"""MentaLLaMA serving: model building/loading, a batching engine and GPU pinning helpers.

Pure torch/transformers/peft: nothing here imports Celery, Flask, Redis or SQL, so the Celery
worker wraps it and the tests drive it directly.
"""
