"""The layering rules, drawn from the imports (scripts/structure.py): no import circles, the engine free
of Django and of the training code, fersite configuration only, emotion/web free of feature apps, each
package saying what it holds, and no long module without a reason."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("structure", ROOT / "scripts" / "structure.py")
structure = importlib.util.module_from_spec(spec)
spec.loader.exec_module(structure)


def test_the_code_keeps_its_layering_rules():
    assert structure.breaches(structure.graph()) == []


def test_a_circle_and_a_climb_back_up_would_be_caught():
    edges = {"emotion.ml.a": {"emotion.ml.b"}, "emotion.ml.b": {"emotion.ml.a"}, "emotion.ml.c": set()}
    assert structure.circles(edges) == [["emotion.ml.a", "emotion.ml.b"]]
    known = structure.modules()
    engine = {name: set() for name in known}
    engine["emotion.ml.engine"] = {"emotion.training.train"}
    assert any("emotion.ml.engine imports emotion.training.train" in b for b in structure.breaches(engine))
