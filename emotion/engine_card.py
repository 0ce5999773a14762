"""The shipped model card, read once for pages that show what the model measured."""

import json
from functools import lru_cache

from emotion.ml.engine import WEIGHTS_DIR


@lru_cache(maxsize=1)
def model_card() -> dict:
    path = WEIGHTS_DIR / "model_card.json"
    return json.loads(path.read_text()) if path.exists() else {}
