"""``python -m phi eval FILE.jsonl``: the evaluation lives in phi.eval, loaded only here."""
import sys

from .eval.cli import main

sys.exit(main())
