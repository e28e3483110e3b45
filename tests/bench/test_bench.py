import json
import platform

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer

import vcon
from vcon.bench.cases import AUTHORS_KINDS, ITERATIVE_TOTAL, KINDS, build_case, kinds_for
from vcon.bench.measure import interleaved, live_bytes, paired_ratio, peak_step_bytes
from vcon.cli import main


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    model = VisionTransformer(img_size=8, patch_size=4, in_chans=1, num_classes=3, embed_dim=32, depth=2,
                              num_heads=2, mlp_ratio=2.0)
    return model, torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])


def _optimized(case):
    return {id(p) for group in case.optimizer.param_groups for p in group["params"]}


def test_after_q_releases_the_original_like_post_shot(tiny):
    dense, x, y = tiny
    spec = {"name": "lowrank", "rank": 4}
    posthoc = build_case("posthoc", dense, spec, x, y)
    after_q = build_case("after_q", dense, spec, x, y)
    for case in (posthoc, after_q):
        layers = vcon.vanishing_layers(case.model)
        assert all(layer.weight is None and layer.beta == 0.0 for layer in layers)
        assert _optimized(case) == {id(p) for p in case.model.parameters()}
        assert set(map(id, case.optimizer.state)) <= _optimized(case)
    after_q.step()
    posthoc.step()
    assert live_bytes(after_q) == live_bytes(posthoc)
    assert peak_step_bytes(after_q) == peak_step_bytes(posthoc) > live_bytes(posthoc)


def test_transition_and_iterative_cases_are_set_as_the_trainer_sets_them(tiny):
    dense, x, y = tiny
    transition = build_case("transition", dense, {"name": "binary"}, x, y)
    transition.step()
    assert {layer.beta for layer in vcon.vanishing_layers(transition.model)} == {0.5}
    iterative = build_case("iterative", dense, {"name": "prune", "sparsity": 0.8}, x, y)
    iterative.step()
    level = vcon.schedules.gradual_sparsity(ITERATIVE_TOTAL // 2, ITERATIVE_TOTAL, 0.8)
    assert {layer.level for layer in vcon.vanishing_layers(iterative.model)} == {level}


@pytest.mark.parametrize("spec", [{"name": "prune", "sparsity": 0.5}, {"name": "binary"}, {"name": "quant", "bits": 3}])
@pytest.mark.parametrize("kind", ["posthoc", "transition"])
def test_authors_data_swap_takes_the_same_steps_as_the_straight_through_layers(tiny, spec, kind):
    dense, x, y = tiny
    ours, authors = build_case(kind, dense, spec, x, y), build_case(f"authors_{kind}", dense, spec, x, y)
    for _ in range(2):
        ours.step()
        authors.step()
    mine, theirs = dict(ours.model.named_parameters()), dict(authors.model.named_parameters())
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[name], theirs[name]) for name in mine)
    assert all(torch.equal(mine[name].grad, theirs[name].grad) for name in mine)


def test_authors_cases_are_for_weight_compressors_only(tiny):
    assert kinds_for({"name": "binary"}) == KINDS + AUTHORS_KINDS
    assert kinds_for({"name": "lowrank", "rank": 4}) == KINDS
    with pytest.raises(ValueError, match="'lowrank' is no weight compressor"):
        build_case("authors_posthoc", *tiny[:1], {"name": "lowrank", "rank": 4}, *tiny[1:])


def test_interleaved_takes_turns_and_paired_ratio_uses_rounds():
    order = []
    times = interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, 3, 1, torch.device("cpu"))
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b"]
    assert [len(t) for t in times.values()] == [3, 3]
    assert paired_ratio([2.0, 3.0, 8.0], [1.0, 1.0, 2.0]) == {"median": 3.0, "q1": 2.5, "q3": 3.5}


def test_bench_command_writes_json_with_ratios_and_targets(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--models", "bert-mini", "--compressors", "prune-2:4", "--repeats", "1",
                 "--warmup", "0", "--batch-size", "4", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [r["compressor"] for r in report["results"]] == ["prune-2:4"]
    first = report["results"][0]
    assert set(first["step_ms"]) == {"dense", "posthoc", "transition", "after_q", "iterative", "authors_posthoc",
                                     "authors_transition"}
    assert set(first["ratios"]) == {"posthoc/dense", "transition/posthoc", "transition/dense", "after_q/posthoc",
                                    "iterative/posthoc", "iterative/dense", "authors_posthoc/dense",
                                    "authors_transition/dense", "posthoc/authors_posthoc",
                                    "transition/authors_transition"}
    assert first["stored"]["forms"] == ["bitmask"]
    assert report["machine"]["torch_threads"] == 2
    assert report["options"]["heap_kept"] == (platform.libc_ver()[0] == "glibc")  # glibc's trimming off
    assert {t["target"] for t in report["targets"]} >= {"post-shot / dense step", "transition / post-shot step",
                                                        "transition / dense step", "iterative / dense step",
                                                        "post-shot / authors' post-shot step",
                                                        "transition / authors' transition step"}
    assert "| prune-2:4 |" in capsys.readouterr().out


def test_bench_rejects_unknown_names(capsys):
    assert main(["bench", "--compressors", "prune-diagonal"]) == 2
    assert "unknown compressor 'prune-diagonal'" in capsys.readouterr().err


def test_profile_takes_any_case_of_the_compressor(capsys):
    assert main(["bench", "--models", "bert-mini", "--profile", "binary", "--profile-case", "authors_transition",
                 "--warmup", "0", "--batch-size", "2"]) == 0
    assert "bert-mini, binary authors_transition, 3 steps" in capsys.readouterr().out
    assert main(["bench", "--profile", "lowrank16", "--profile-case", "authors_posthoc"]) == 2
    assert "lowrank16 has no authors_posthoc case" in capsys.readouterr().err
