"""vcon: Vanishing Contributions, a smooth transition of a trained network into its compressed form.

    import vcon
    vcon.compress(model, {"name": "prune", "sparsity": 0.9})   # in place, beta = 1
    vcon.set_beta(model, vcon.schedules.beta("linear", step, q))
    small = vcon.export(model)                                  # plain compressed model
    vcon.stats(model)["total"]["sparsity"]
"""
from vcon import schedules
from vcon.api import compress, release_original, set_beta, set_step, vanishing_layers
from vcon.blend import VanishingBlock, VanishingLinear, VanishingLowRank
from vcon.compact import load_compact, save_compact
from vcon.compressors import COMPRESSORS, SpecError, from_spec, list_compressors, register_compressor
from vcon.export import CompressedLinear, LowRankLinear, export
from vcon.stats import stats

__version__ = "0.1.0"

__all__ = [
    "COMPRESSORS",
    "CompressedLinear",
    "LowRankLinear",
    "SpecError",
    "VanishingBlock",
    "VanishingLinear",
    "VanishingLowRank",
    "compress",
    "export",
    "from_spec",
    "list_compressors",
    "load_compact",
    "register_compressor",
    "release_original",
    "save_compact",
    "schedules",
    "set_beta",
    "set_step",
    "stats",
    "vanishing_layers",
]
