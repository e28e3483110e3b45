"""`bert-mini`: a small BERT classifier built from a config, for the benchmark's text tasks.

Dropout is 0.1 (hidden and attention), the BERT default, so that bert-mini trains like
bert-base does. It has no tokenizer: the dataset supplies token ids below `input_spec["vocab_size"]`.
Attention is the plain ("eager") softmax(Q K^T) V: on the CPU, for sentences of a few dozen tokens
with a padding mask, it is faster than the fused kernel (`sdpa`) in training and evaluation
(docs/benchmark.md); both compute the same function and draw the same dropout masks.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any


from vcon.models.registry import register_model
from vcon.models.spec import problem_type, require_scratch, spec_int

DROPOUT = 0.1
HIDDEN = 64
INTERMEDIATE = 128

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier


@register_model("bert-mini", width=min(HIDDEN, INTERMEDIATE), family="hf-bert")
def build_bert_mini(num_classes: int, input_spec: Mapping[str, Any], init: str | None) -> Classifier:
    require_scratch("bert-mini", init)
    from transformers import BertConfig, BertForSequenceClassification  # slow import: only when used

    config = BertConfig(
        vocab_size=spec_int(input_spec, "vocab_size", "bert-mini"),
        max_position_embeddings=spec_int(input_spec, "max_length", "bert-mini"),
        hidden_size=HIDDEN,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=INTERMEDIATE,
        hidden_dropout_prob=DROPOUT,
        attention_probs_dropout_prob=DROPOUT,
        num_labels=num_classes,
        problem_type=problem_type(num_classes),
        attn_implementation="eager",
    )
    from vcon.models.classifier import Classifier

    return Classifier(BertForSequenceClassification(config), "hf-bert", num_classes, source="scratch")
