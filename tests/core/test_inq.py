"""The iterative quantization baseline follows INQ (Zhou et al. 2017): each share is quantized when
its stage starts, keeps those values from then on, and only the weights not yet quantized train.
Stages at T = 12: half of each layer from step 0, 75 % from step 4, 87.5 % from step 8, all from 12."""
import pytest
import torch

import vcon

T = 12
STAGES = {0: 0.5, 4: 0.75, 8: 0.875, 12: 1.0}


def _model(spec, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(10, 8))]))
    vcon.compress(model, spec, iterative=True)
    vcon.set_beta(model, 0.0)
    return model, model.blocks[0][0]


def _train(model, optimizer, steps, start=0, record=None):
    """`steps` optimizer steps from `start`, the level set from the step before each (as the trainer does)."""
    generator = torch.Generator().manual_seed(start)
    for step in range(start, start + steps):
        vcon.set_step(model, step, iterative_total=T)
        if record is not None:
            record(step)
        x, target = torch.randn(16, 10, generator=generator), torch.randn(16, 8, generator=generator)
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model.blocks[0](x), target).backward()
        optimizer.step()


OPTIMIZERS = {
    "adamw-decay": lambda params: torch.optim.AdamW(params, lr=0.05, weight_decay=0.1),
    "sgd-momentum": lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=0.01),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("spec", [{"name": "binary"}, {"name": "binary", "scale": "row"}, {"name": "quant", "bits": 3}],
                         ids=lambda s: "-".join(map(str, s.values())))
def test_a_frozen_share_never_changes_after_its_step_and_the_rest_trains(spec, optimizer):
    model, layer = _model(spec)
    assert layer.level == 0.0 and not layer.iterative_state.frozen.any()
    optim = OPTIMIZERS[optimizer](model.parameters())
    frozen_at: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    previous = {}

    def record(step):
        weight = layer.exported_weight()
        mask = layer.iterative_state.frozen.clone()
        assert int(mask.sum()) == round(STAGES[max(s for s in STAGES if s <= step)] * 80)
        for first, (old_mask, values) in frozen_at.items():  # every earlier share, exactly as frozen
            assert torch.equal(weight[old_mask], values), f"share of step {first} moved by step {step}"
            assert (mask & old_mask).equal(old_mask)
        if step in STAGES:
            frozen_at[step] = (mask, weight[mask].clone())
        if previous and step < T:  # the not-yet-quantized weights are the latent ones, and they move
            assert torch.equal(weight[~mask], layer.weight.detach()[~mask])
            assert not torch.equal(weight[~mask], previous["weight"][~mask])
        previous["weight"] = weight

    _train(model, optim, 16, record=record)
    assert layer.iterative_state.frozen.all()
    final = layer.exported_weight()
    for step, (mask, values) in frozen_at.items():
        assert torch.equal(final[mask], values)
    assert layer.weight.grad[layer.iterative_state.frozen].abs().sum() == 0  # no gradient reaches frozen entries


def test_shares_are_the_largest_magnitudes_on_the_first_stages_levels():
    model, layer = _model({"name": "binary"})
    start = layer.weight.detach().clone()
    scale = start.abs().mean()
    vcon.set_step(model, 0, iterative_total=T)
    mask = layer.iterative_state.frozen.clone()
    assert int(mask.sum()) == 40 and start.abs()[mask].min() >= start.abs()[~mask].max()
    assert torch.equal(layer.exported_weight()[mask], torch.where(start >= 0, scale, -scale)[mask])
    with torch.no_grad():
        layer.weight.mul_(3.0)  # training moved the latent weights; the levels stay those of stage one
    vcon.set_step(model, 4, iterative_total=T)
    new = layer.iterative_state.frozen & ~mask
    assert int(new.sum()) == 20
    assert layer.exported_weight()[new].abs().unique().tolist() == [scale.item()]
    vcon.set_step(model, T, iterative_total=T)
    assert layer.exported_weight().abs().unique().tolist() == [scale.item()]  # two values, +-scale
    assert vcon.stats(model)["layers"][0]["form"] == "signs"


def test_trained_share_keeps_the_straight_through_variant():
    model, layer = _model({"name": "binary", "quantized_share": "trained"})
    assert layer.iterative_state is None
    optim = torch.optim.AdamW(model.parameters(), lr=0.05)
    seen = []
    _train(model, optim, 3, record=lambda step: seen.append(layer.exported_weight()))
    quantized = seen[0].abs() == seen[0].abs().max()  # at 50 % the largest half is quantized
    assert not torch.equal(seen[2][quantized], seen[0][quantized])  # re-quantized from trained latent weights


def test_shares_only_grow_and_survive_a_state_dict_round_trip():
    model, layer = _model({"name": "quant", "bits": 4})
    optim = torch.optim.AdamW(model.parameters(), lr=0.05)
    _train(model, optim, 6)
    with pytest.raises(ValueError, match="INQ shares only grow: 60 weights are frozen, level 0.5 asks for 40"):
        vcon.set_step(model, 0, iterative_total=T)
    fresh, fresh_layer = _model({"name": "quant", "bits": 4}, seed=1)
    fresh.load_state_dict(model.state_dict())
    vcon.set_step(fresh, 6, iterative_total=T)
    assert torch.equal(fresh_layer.exported_weight(), layer.exported_weight())


