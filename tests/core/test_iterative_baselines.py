"""The iterative baselines as their papers define them: Zhu & Gupta's gradual pruning (2017, eq. 1:
the ramp, the mask updated every dt steps, the gradient masked so a pruned weight stays pruned), and
the stepwise low-rank baseline's rule for the factors' optimizer state at a rank step."""
import pytest
import torch

import vcon
from vcon import schedules


def test_zhu_gupta_ramp_at_named_steps():
    # s_f = 0.9, s_i = 0.1, t_0 = 10, dt = 5, n = 4: s = 0.9 - 0.8 (1 - k/4)^3 after the k-th update
    got = [schedules.gradual_sparsity(t, 30, 0.9, every=5, start=10, initial=0.1, updates=4)
           for t in (0, 9, 10, 14, 15, 19, 20, 25, 29, 30, 500)]
    assert got == pytest.approx([0.0, 0.0, 0.1, 0.1, 0.5625, 0.5625, 0.8, 0.8875, 0.8875, 0.9, 0.9], abs=1e-12)


def test_zhu_gupta_ramp_fits_as_many_updates_as_t_allows():
    # T = 40, t_0 = 10, dt = 5: n = 6 updates, the last at step 40; s_i = 0
    got = [schedules.gradual_sparsity(t, 40, 0.6, every=5, start=10) for t in (10, 15, 25, 39, 40)]
    assert got == pytest.approx([0.0, 0.6 * (1 - (5 / 6) ** 3), 0.6 * (1 - 0.5 ** 3), 0.6 * (1 - (1 / 6) ** 3), 0.6])


def test_a_ramp_that_ends_after_t_is_refused():
    with pytest.raises(ValueError, match=r"\(t_0 = 10, dt = 5, n = 5\) must have n >= 1 updates ending by T = 30"):
        schedules.gradual_sparsity(0, 30, 0.9, every=5, start=10, updates=5)
    with pytest.raises(ValueError, match=r"n = 0\) must have n >= 1 updates ending by T = 12"):
        schedules.ramp(12, every=13)
    with pytest.raises(ValueError, match=r"needs an update interval dt >= 1 step before T = 12"):
        schedules.ramp(12, every=None, updates=13)


def test_n_updates_alone_spread_over_t():
    # T = 42, n = 6: dt = 7, updates at 7, 14, ..., 42; T = 40, n = 6: dt = 6, the last update at 36
    assert schedules.ramp(42, every=None, updates=6) == (7, 6)
    assert schedules.ramp(40, every=None, updates=6) == (6, 6)
    assert schedules.ramp(40, every=None) == (1, 40)
    assert schedules.gradual_sparsity(36, 40, 0.5, every=None, updates=6) == 0.5
    assert schedules.gradual_sparsity(35, 40, 0.5, every=None, updates=6) == pytest.approx(0.5 * (1 - (1 / 6) ** 3))


def _layer(spec, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(10, 8))]))
    vcon.compress(model, spec, iterative=True)
    vcon.set_beta(model, 0.0)
    return model, model.blocks[0][0]


def _run(model, layer, total, steps, record):
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(1)
    for step in range(steps):
        vcon.set_step(model, step, iterative_total=total)
        vcon.reset_optimizer_state(optimizer, vcon.rewritten_parameters(model))
        x, target = torch.randn(16, 10, generator=generator), torch.randn(16, 8, generator=generator)
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model.blocks[0](x), target).backward()
        optimizer.step()
        record(step, optimizer)


ZHU_GUPTA = {"name": "prune", "sparsity": 0.75, "gradient": "masked", "ramp_every": 3}
# T = 12, dt = 3: updates at 3, 6, 9, 12 to s = 0.75 (1 - (1 - k/4)^3) of 80 weights, counted
# round-half-up: 34.69 -> 35, 52.5 -> 53, 59.06 -> 59, 60
PRUNED_AFTER = {0: 0, 3: 35, 6: 53, 9: 59, 12: 60}


def test_zhu_gupta_mask_moves_only_every_dt_and_pruned_weights_stay_pruned_without_gradient():
    model, layer = _layer(ZHU_GUPTA)
    masks = []

    def record(step, optimizer):  # after optimizer step `step`
        mask = layer.iterative_state.mask.clone()
        assert int((~mask).sum()) == PRUNED_AFTER[max(s for s in PRUNED_AFTER if s <= step)]
        if masks:
            changed = not torch.equal(mask, masks[-1])
            assert changed == (step in (3, 6, 9, 12)), f"the mask changed at step {step}"
            assert not (mask & ~masks[-1]).any(), f"a pruned weight came back at step {step}"
        assert torch.count_nonzero(layer.weight.grad[~mask]) == 0
        assert torch.count_nonzero(layer.weight.grad[mask]) == int(mask.sum())
        masks.append(mask)

    _run(model, layer, total=12, steps=16, record=record)
    exported = vcon.export(model).blocks[0][0].weight
    assert int((exported == 0).sum()) == 60
    assert torch.equal(exported != 0, masks[-1])


def test_zhu_gupta_mask_keeps_the_largest_magnitudes_of_the_weights_still_kept():
    model, layer = _layer(ZHU_GUPTA)
    with torch.no_grad():
        layer.weight.copy_(torch.arange(1, 81, dtype=torch.float32).reshape(8, 10))
    vcon.set_step(model, 3, iterative_total=12)
    assert torch.equal(layer.iterative_state.mask.flatten(), torch.arange(80) >= 35)
    with torch.no_grad():  # the pruned weights grow large: they stay pruned all the same
        layer.weight.masked_fill_(~layer.iterative_state.mask, 1000.0)
    vcon.set_step(model, 6, iterative_total=12)
    assert torch.equal(layer.iterative_state.mask.flatten(), torch.arange(80) >= 53)


def test_straight_through_variant_gives_pruned_weights_a_gradient_and_recomputes_each_step():
    model, layer = _layer({**ZHU_GUPTA, "gradient": "straight_through"})
    assert layer.iterative_state is None

    def record(step, optimizer):
        assert torch.count_nonzero(layer.weight.grad) == 80

    _run(model, layer, total=12, steps=14, record=record)
    assert int((vcon.export(model).blocks[0][0].weight == 0).sum()) == 60


LOW_RANK = {"name": "lowrank", "rank": 2, "start_rank": 8, "rank_stages": 2}
# T = 10, two stages: rank 8 for steps 0-4, round(8 (2/8)^(1/2)) = 4 from step 5, 2 from step 10


@pytest.mark.parametrize("rule,factor_steps", [("reset", {4: 5, 5: 1, 9: 5, 10: 1, 11: 2}),
                                               ("kept", {4: 5, 5: 6, 9: 10, 10: 11, 11: 12})])
def test_low_rank_factors_optimizer_state_at_a_rank_step(rule, factor_steps):
    """Adam's step count of each factor after each optimizer step: restarted at the rank steps (5, 10)
    under `reset`, counting on under `kept`; the bias is never re-truncated. Right after a reset the
    factors' moments are a fresh Adam's: (1 - beta1) g and (1 - beta2) g^2."""
    model, layer = _layer({**LOW_RANK, "optimizer_state": rule})
    counts = {}
    factors = (layer.factor_a, layer.factor_b)

    def record(step, optimizer):  # after optimizer step `step`
        counts[step] = [int(optimizer.state[p]["step"]) for p in (*factors, layer.bias)]
        if rule == "reset" and step in (5, 10):
            for p in factors:
                torch.testing.assert_close(optimizer.state[p]["exp_avg"], 0.1 * p.grad, rtol=1e-6, atol=0)
                torch.testing.assert_close(optimizer.state[p]["exp_avg_sq"], 0.001 * p.grad ** 2, rtol=1e-5, atol=0)

    _run(model, layer, total=10, steps=12, record=record)
    assert int(layer.active_rank) == 2
    for step, count in factor_steps.items():
        assert counts[step] == [count, count, step + 1], step


def test_each_rank_step_is_reported_once_and_only_under_reset():
    for rule, expected in (("reset", 2), ("kept", 0)):
        model, layer = _layer({**LOW_RANK, "optimizer_state": rule})
        vcon.set_step(model, 4, iterative_total=10)
        assert vcon.rewritten_parameters(model) == []
        vcon.set_step(model, 5, iterative_total=10)  # an evaluation at step 5 sets the step first,
        vcon.set_step(model, 5, iterative_total=10)  # then the training step sets it again
        stale = vcon.rewritten_parameters(model)
        assert len(stale) == expected and all(p is layer.factor_a or p is layer.factor_b for p in stale)
        assert vcon.rewritten_parameters(model) == []
        assert not bool(layer.rewritten) and "rewritten" in layer.state_dict()
