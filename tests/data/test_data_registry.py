import copy

import pytest

import vcon.data.registry as registry
from vcon.data import DatasetBundle, DatasetOptions, build_dataset, list_datasets, register_dataset

GLUE = [f"glue-{task}" for task in ("cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst2", "stsb", "wnli")]


def test_builtin_names_are_registered():
    assert list_datasets() == sorted(["cifar10", "cifar100", "digits", "glyphs", "imagenet", "synthetic-clauses", "synthetic-text", *GLUE])


def test_unknown_name_lists_names_and_suggests():
    with pytest.raises(ValueError) as info:
        build_dataset("digit", DatasetOptions())
    message = str(info.value)
    assert "unknown dataset 'digit'" in message
    assert "(did you mean 'digits'?); registered datasets: cifar10" in message
    assert "glue-sst2" in message and "synthetic-text" in message


def test_unknown_name_without_close_match_has_no_suggestion():
    with pytest.raises(ValueError) as info:
        build_dataset("zzzzzz")
    assert "did you mean" not in str(info.value)


def test_register_and_build_passes_options(monkeypatch):
    monkeypatch.setattr(registry, "DATASETS", copy.deepcopy(registry.DATASETS))
    seen = []

    @register_dataset("toy")
    def build_toy(options: DatasetOptions) -> DatasetBundle:
        seen.append(options)
        return DatasetBundle([], [], [], num_classes=2, task="image", metric="accuracy", input_spec={})

    assert "toy" in list_datasets()
    options = DatasetOptions(seed=7, augment=False)
    assert build_dataset("toy", options).num_classes == 2
    build_dataset("toy")
    assert seen == [options, DatasetOptions()]
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("toy")(build_toy)


@pytest.mark.parametrize("name", ["digits", "glyphs", "synthetic-text", "synthetic-clauses"])
def test_declared_facts_are_what_the_builder_makes(name):
    """The registry's train_size and classes (which the workflow checks configs against) are the built data's."""
    entry = registry.DATASETS.get(name)
    data = build_dataset(name, DatasetOptions())
    assert (len(data.train), data.num_classes, entry.files) == (entry.train_size, entry.classes, False)


def test_importing_the_registry_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, vcon.data, vcon.models, vcon.grid; print(sorted(m for m in ('torch', 'transformers', 'timm') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
