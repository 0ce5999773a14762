from emotion.training.card_history import carried_forward


def test_the_replaced_model_heads_the_history_and_the_projects_record_is_carried():
    old = {"name": "v1", "checkpoint_sha256": "a", "evaluation": {"acc": 0.6}, "history": [{"name": "v0"}]}
    previous = {"name": "v2", "checkpoint_sha256": "b", "evaluation": {"acc": 0.7}, "robustness": {"x": 1},
                "limitations": ["rewritten by each card"], "lineage": {"teachers": ["t1"]},
                "candidates_not_shipped": [{"name": "c"}], "notes": ["n"], "history": [old, {"name": "v0"}]}
    out = carried_forward(previous)
    assert [h["name"] for h in out["history"]] == ["v2", "v1", "v0"]
    assert out["history"][0] == {"name": "v2", "checkpoint_sha256": "b", "evaluation": {"acc": 0.7},
                                 "robustness": {"x": 1}}
    assert out["lineage"] == {"teachers": ["t1"]} and out["notes"] == ["n"]
    assert out["candidates_not_shipped"] == [{"name": "c"}] and "limitations" not in out
    assert carried_forward({}) == {}
