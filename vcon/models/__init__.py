"""Model registry: `build_model(name_or_path, num_classes, input_spec, init) -> Classifier`."""
from vcon.models import bert_mini, pretrained, vit_digits  # noqa: F401  (registrations)
from vcon.models.build import build_model
from vcon.models.classifier import Classifier
from vcon.models.hub import HubUnreachableError
from vcon.models.registry import list_models, register_model
from vcon.models.tokenizer import load_tokenizer

__all__ = ["Classifier", "HubUnreachableError", "build_model", "list_models", "load_tokenizer", "register_model"]
