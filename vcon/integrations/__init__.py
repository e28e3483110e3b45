"""VCON inside other training loops: `vcon.integrations.hf` for the Hugging Face `transformers.Trainer`."""
