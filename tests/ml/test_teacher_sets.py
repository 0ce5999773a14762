"""Choosing a student's teachers: a set is worth what its averaged, softened targets score."""

import json

import numpy as np

from emotion.training import soft_targets, teacher_sets


def stored(tmp_path, name, logits):
    path = tmp_path / f"{name}.npz"
    np.savez_compressed(path, Training=logits.astype(np.float16), PublicTest=logits.astype(np.float16))
    (tmp_path / f"{name}.json").write_text(json.dumps({"sha256": soft_targets.sha256(path)}))
    return path


def test_teachers_right_on_different_faces_rank_above_each_alone_and_a_copy_adds_nothing(tmp_path):
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    n = len(labels)
    # a is sure and right on the first half, unsure and wrong on the second; b the other way round
    a, b = np.zeros((n, 7)), np.zeros((n, 7))
    for i, y in enumerate(labels):
        sure, unsure = (a, b) if i < n // 2 else (b, a)
        sure[i, y] = 8.0
        unsure[i, (y + 1) % 3] = 1.0
    paths = [stored(tmp_path, "a", a), stored(tmp_path, "b", b), stored(tmp_path, "a-copy", a)]
    ranked = teacher_sets.rank(paths, labels, temperature=4.0, largest=2)
    assert ranked[0]["accuracy"] == 1.0 and "b" in ranked[0]["teachers"]
    alone = {tuple(r["teachers"]): r["accuracy"] for r in ranked}
    assert alone[("a",)] == alone[("b",)] == 0.5
    assert alone[("a", "a-copy")] == alone[("a",)]
    assert len(ranked) == 3 + 3                                   # three alone, three pairs
