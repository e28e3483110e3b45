"""The ViT-T/CIFAR-10 cells of configs/paper.yaml, as the trainer reads them, run the authors' recipe
(Foros15/vanishing-contributions at ff7783d: vcon/config.py, vcon/trainer.py, vcon/utils.py, and the
demo configs under models_pretrained/). The expected values are the authors', written out here;
docs/fidelity.md gives the file and line of each."""
import math
from pathlib import Path

import pytest

from vcon import grid
from vcon.data import cifar
from vcon.schedules import beta
from vcon.train.batches import EpochBatches
from vcon.train.config import from_dict, to_steps
from vcon.train.loop import bf16_enabled, lr_at
from vcon.vocabulary import FINETUNED, PRETRAINED

PAPER = Path(__file__).resolve().parents[2] / "configs" / "paper.yaml"
CHECKPOINT = "WinKawaks/vit-tiny-patch16-224"
CIFAR10_TRAIN = 50_000
AUTHORS = {  # config.py defaults (the demo configs keep them)
    "batch_size": 128, "epochs": 60, "lr": 1e-4, "min_lr": 1e-6, "weight_decay": 0.0, "grad_clip": None,
    "warmup_steps": 0,  # nominal 1 epoch, overridden by the cosine from step 2 (trainer.py)
    "original": "shared", "layers": None, "augment": True, "image_recipe": "authors", "image_size": None,
}
COMPRESSORS = {  # utils.py Pruner / Quantizer / LRDer with the demo's settings
    "prune": {"sparsity": 0.9, "granularity": "layer", "update_every": 1, "gradient": "straight_through"},
    "binary": {"scale": "layer"},
    "lowrank": {"rank": 16, "bias": "shared"},
}
STEPS_PER_EPOCH = math.ceil(CIFAR10_TRAIN / 128)  # len(trainloader): 391
Q = 12 * STEPS_PER_EPOCH  # prune/quantize/lrd_vcon_epochs = 12 in the demo configs
TOTAL = 60 * STEPS_PER_EPOCH


DEMO_COMPRESSORS = ("none", "prune90", "binary", "lowrank16")  # the demo's; the grid adds per-row and 2:4 pruning


@pytest.fixture(scope="module")
def cells():
    """The trainer's configs of the paper's ViT-T/CIFAR-10 cells of the demo's start and compressors, by run id."""
    found = {run: cell for run, cell in grid.load(PAPER).cells.items()
             if cell.model == "vit-tiny" and cell.dataset == "cifar10" and cell.start == PRETRAINED
             and cell.compressor in DEMO_COMPRESSORS}
    return {run: from_dict(cell.config, f"{PAPER}: {run}") for run, cell in found.items()}


def test_the_research_script_start_and_the_granularities_are_in_the_grid():
    """147ff53:vit_training.py starts compression from the dense model fine-tuned on the task; the
    authors' Pruner also prunes per neuron (row) and per group (N:M)."""
    tiny = [cell for cell in grid.load(PAPER).cells.values() if cell.model == "vit-tiny"]
    finetuned = [cell for cell in tiny if cell.start == FINETUNED]
    assert finetuned and all(cell.config["init"] == f"results/runs/vit-tiny/cifar10/dense/seed{cell.seed}"
                             for cell in finetuned)
    granularities = {cell.config["compressor"]["granularity"] for cell in tiny
                     if cell.config["compressor"] and cell.config["compressor"]["name"] == "prune"}
    assert granularities == {"layer", "row", "2:4"}


def test_every_cell_has_the_authors_training_values(cells):
    assert cells
    for run, config in cells.items():
        assert config.model == CHECKPOINT, run
        for key, value in AUTHORS.items():
            assert getattr(config, key) == value, (run, key)
        assert not bf16_enabled(config.bf16, "cuda"), run  # fp32, as trainer.py
    assert cifar.DEFAULT_IMAGE_SIZE == 224  # image_size null = the authors' Resize((224, 224))


def test_the_demo_start_and_seed_are_in_the_grid(cells):
    starts = {config.init for config in cells.values()}
    assert CHECKPOINT in starts  # modeling.py: from_pretrained, new head (load_model empty)
    assert 42 in {config.seed for config in cells.values()}  # config.py seed


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_vcon_at_12_epochs_has_the_authors_compressor_and_q(cells, name):
    chosen = [config for config in cells.values() if config.compressor and config.compressor["name"] == name
              and config.method == "vcon" and config.q == "12ep" and config.schedule == "linear"]
    assert chosen, f"no ViT-T/CIFAR-10 {name} VCON cell at Q = 12 epochs, linear"
    for config in chosen:
        spec = config.compressor
        assert {key: spec[key] for key in COMPRESSORS[name]} == COMPRESSORS[name]
        steps_per_epoch = len(EpochBatches(CIFAR10_TRAIN, config.batch_size, config.seed))
        assert steps_per_epoch == STEPS_PER_EPOCH
        assert to_steps(config.q, steps_per_epoch) == Q == 4692


def test_beta_follows_the_authors_per_step_decrement():
    """trainer.py lowers beta by 1/Q after every optimizer step and sets it to 0 once Q steps are done."""
    theirs, remaining = 1.0, Q
    for step in range(Q + 3):
        assert beta("linear", step, Q) == pytest.approx(theirs, abs=1e-12), step
        if remaining > 0:
            remaining -= 1
            theirs -= 1 / Q
        else:
            theirs = 0
    assert beta("linear", Q, Q) == 0.0


def test_lr_is_the_authors_cosine_from_step_two():
    """trainer.py: lr_min + (lr - lr_min) (1 + cos(pi t / T)) / 2 over all T steps; its nominal warm-up
    only sets steps 0 and 1 (1e-5, then 1e-5 + 9e-5 / 391), before the cosine takes over."""
    for step in (2, 3, 391, Q, TOTAL // 2, TOTAL - 1):
        theirs = 1e-6 + 0.5 * (1e-4 - 1e-6) * (1 + math.cos(math.pi * step / TOTAL))
        assert lr_at(step, 1e-4, 1e-6, 0, TOTAL) == pytest.approx(theirs, rel=1e-12), step
