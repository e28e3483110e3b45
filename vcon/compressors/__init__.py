"""Compressors: small frozen configs, registered by name. Adding one is one module plus an import here."""
from vcon.compressors.base import Compressor, FactorCompressor, SpecError, WeightCompressor
from vcon.compressors.registry import COMPRESSORS, from_spec, list_compressors, register_compressor
from vcon.compressors import binary, kbit, lowrank, prune  # noqa: F401  (registration)

__all__ = [
    "COMPRESSORS",
    "Compressor",
    "FactorCompressor",
    "SpecError",
    "WeightCompressor",
    "from_spec",
    "list_compressors",
    "register_compressor",
]
