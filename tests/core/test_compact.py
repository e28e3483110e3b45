import copy
import json
import math
import struct

import pytest
import torch
from damage import flip_bytes, truncate

import vcon
from vcon.compressors import from_spec
from vcon.compressors.packing import (bitwise_equal, decode, encode_codes, encode_signs, encode_sparse, pack_bits,
                                      pack_codes, unpack_bits, unpack_codes)

SPECS = [
    {"name": "prune", "sparsity": 0.9, "granularity": "layer"},
    {"name": "prune", "granularity": "2:4"},
    {"name": "binary"},
    {"name": "binary", "scale": "row"},
    {"name": "quant", "bits": 4},
    {"name": "quant", "bits": 3},
    {"name": "lowrank", "rank": 4},
    {"name": "lowrank", "rank": 4, "bias": "separate"},
]


def test_pack_bits_little_endian_within_bytes():
    bits = torch.tensor([1, 0, 0, 0, 0, 0, 0, 0, 1, 1], dtype=torch.bool)
    packed = pack_bits(bits)
    assert packed.dtype == torch.uint8 and packed.tolist() == [1, 3]
    assert torch.equal(unpack_bits(packed, 10), bits)


def test_pack_codes_is_a_dense_bit_stream():
    packed = pack_codes(torch.tensor([5, 2, 7]), 3)  # bits 101 010 111, lowest first
    assert packed.tolist() == [1 + 4 + 16 + 64 + 128, 1]
    codes = torch.randint(0, 8, (1001,), generator=torch.Generator().manual_seed(0))
    packed = pack_codes(codes, 3)
    assert packed.numel() == math.ceil(1001 * 3 / 8)
    assert torch.equal(unpack_codes(packed, 3, 1001), codes.int())


def test_sparse_form_keeps_signed_zeros_and_picks_the_smaller_layout():
    weight = torch.zeros(24, 40)
    weight[0, :96 // 24] = 1.0
    weight[3, 5], weight[7, 7] = -0.0, -2.5  # -0.0 differs from +0.0 bit for bit, so it is stored
    form, parts = encode_sparse(weight)
    assert form == "bitmask" and parts["mask"].numel() == 120 and parts["values"].numel() == 6
    assert bitwise_equal(decode(form, parts, (24, 40)), weight)
    very_sparse = torch.zeros(2, 400)
    very_sparse[1, [3, 9, 399]] = torch.tensor([1.0, -2.0, 3.0])
    form, parts = encode_sparse(very_sparse)
    assert form == "csr"  # 3 * 8 + 4 * 3 = 36 bytes against 100 + 12
    assert parts["columns"].tolist() == [3, 9, 399] and parts["row_ptr"].tolist() == [0, 0, 3]
    assert bitwise_equal(decode(form, parts, (2, 400)), very_sparse)


def test_quant_codes_round_trip_bit_for_bit_with_negative_zero():
    weight = from_spec({"name": "quant", "bits": 4}).values(torch.randn(16, 24) * 0.1, None, 1.0)
    assert torch.signbit(weight[weight == 0]).any()  # round(-small) * s = -0.0 occurs
    form, parts = encode_codes(weight, 4)
    assert form == "codes4" and parts["codes"].numel() == 16 * 24 // 2 and parts["scales"].numel() == 16
    assert bitwise_equal(decode(form, parts, (16, 24)), weight)


def test_weights_off_the_grid_fall_back_to_dense():
    weight = torch.randn(4, 8)
    assert encode_signs(weight, per_row=False)[0] == "dense"
    assert encode_codes(weight, 4)[0] == "dense"


def _compressed(spec, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(40, 24), torch.nn.Linear(24, 40))]))
    model.add_module("head", torch.nn.Linear(40, 3))
    vcon.compress(model, spec)
    vcon.set_beta(model, 0.0)
    return model


EXACT_LAYER_BYTES = {  # the first layer, 24 x 40 (960 weights) with its 24 fp32 biases
    "prune-0.9-layer": 120 + 4 * 96 + 4 * 24,
    "prune-2:4": 120 + 4 * 480 + 4 * 24,
    "binary": 120 + 4 + 4 * 24,
    "binary-row": 120 + 4 * 24 + 4 * 24,
    "quant-4": 480 + 4 * 24 + 4 * 24,
    "quant-3": 360 + 4 * 24 + 4 * 24,
    "lowrank-4": 4 * (4 * 40 + 24 * 4) + 4 * 24,
    "lowrank-4-separate": 4 * (4 * 40 + 24 * 4) + 4 * 24,
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(map(str, list(s.values())[1:])) or s["name"])
def test_stats_bytes_are_the_file_payload_and_loading_is_exact(tmp_path, spec):
    label = "-".join(map(str, [spec["name"], *list(spec.values())[1:]]))
    model = _compressed(spec)
    exported = vcon.export(model)
    report = vcon.stats(exported)
    assert report["layers"][0]["bytes_compressed"] == EXACT_LAYER_BYTES[label]
    path = tmp_path / "model.safetensors"
    size = vcon.save_compact(model, path)
    header = struct.unpack("<Q", path.read_bytes()[:8])[0]
    assert size == path.stat().st_size == 8 + header + report["model"]["bytes_compressed"]
    assert report["model"]["bytes_dense"] == 4 * (40 * 24 + 24 + 24 * 40 + 40 + 40 * 3 + 3)
    loaded = vcon.load_compact(path, _dense_skeleton())
    expected, got = exported.state_dict(), loaded.state_dict()
    assert list(expected) == list(got)
    assert all(bitwise_equal(expected[k], got[k]) for k in expected)
    x = torch.randn(5, 40)
    assert torch.equal(_run(loaded, x), _run(exported, x))


def _dense_skeleton():
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(40, 24), torch.nn.Linear(24, 40))]))
    model.add_module("head", torch.nn.Linear(40, 3))
    return model


def _run(model, x):
    return model.head(model.blocks[0](x))


def test_ninety_percent_pruning_and_binary_are_really_smaller():
    prune = vcon.stats(_compressed({"name": "prune", "sparsity": 0.9}))["total"]
    assert prune["bytes_compressed"] == 2 * (120 + 4 * 96) + 4 * (24 + 40)
    assert prune["bytes_ratio"] <= 0.2
    binary = vcon.stats(_compressed({"name": "binary"}))["total"]
    assert binary["bytes_compressed"] == 2 * (120 + 4) + 4 * (24 + 40)


def test_load_compact_into_a_timm_vit_bitwise(tmp_path, family):
    name, model, x = family
    compressed = vcon.compress(copy.deepcopy(model), {"name": "quant", "bits": 4})
    vcon.set_beta(compressed, 0.0)
    exported = vcon.export(compressed)
    vcon.save_compact(exported, tmp_path / "m.safetensors")
    loaded = vcon.load_compact(tmp_path / "m.safetensors", model)
    assert torch.equal(loaded(x), exported(x))
    assert {layer["form"] for layer in vcon.stats(loaded)["layers"]} == {"codes4"}


def test_load_compact_rejects_other_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a vcon-compact/2 file"):
        vcon.load_compact(tmp_path / "other.safetensors", torch.nn.Linear(2, 2))


# --- A compact file carries the sha256 of its content: a damaged one is refused, never loaded ---------

DAMAGED = ", a compact model (vcon.save_compact), is damaged: "
REBUILD = ". Rebuild it: save the model again with vcon.save_compact(model, path)"


@pytest.fixture
def compact_file(tmp_path):
    path = tmp_path / "model.safetensors"
    vcon.save_compact(_compressed({"name": "prune", "sparsity": 0.9}), path)
    return path


def test_a_flipped_byte_in_a_compact_file_is_refused(compact_file):
    flip_bytes(compact_file)
    with pytest.raises(ValueError) as caught:
        vcon.load_compact(compact_file, _dense_skeleton())
    assert str(caught.value) == (f"{compact_file}{DAMAGED}its content does not match the sha256 recorded when it "
                                 f"was written{REBUILD}")


def test_a_changed_layer_description_is_refused(compact_file):
    data = compact_file.read_bytes()
    header = struct.unpack("<Q", data[:8])[0]
    assert data[8:8 + header].count(b'\\"sparsity\\": 0.9') == 2  # the two compressed layers' specs
    compact_file.write_bytes(data.replace(b'\\"sparsity\\": 0.9', b'\\"sparsity\\": 0.8', 1))
    with pytest.raises(ValueError, match="its content does not match the sha256 recorded when it was written"):
        vcon.load_compact(compact_file, _dense_skeleton())


def test_a_cut_compact_file_is_refused(compact_file):
    truncate(compact_file)
    with pytest.raises(ValueError) as caught:
        vcon.load_compact(compact_file, _dense_skeleton())
    assert str(caught.value).startswith(f"{compact_file}{DAMAGED}it cannot be read (SafetensorError: ")
    assert str(caught.value).endswith(REBUILD)


def test_a_compact_file_written_before_the_checksum_still_loads(tmp_path):
    from safetensors.torch import save_file

    from vcon.compact import compact_state

    exported = vcon.export(_compressed({"name": "binary"}))
    tensors, layout = compact_state(exported)
    save_file(tensors, str(tmp_path / "old.safetensors"), metadata={
        "format": "vcon-compact/1", "layers": json.dumps(layout["layers"]), "aliases": json.dumps(layout["aliases"])})
    loaded = vcon.load_compact(tmp_path / "old.safetensors", _dense_skeleton())
    x = torch.randn(5, 40)
    assert torch.equal(_run(loaded, x), _run(exported, x))
