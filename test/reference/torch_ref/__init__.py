"""Modules of generate_torch.py: the layers, their Keras 2 semantics in torch,
their reference cases and self-checks, and the safetensors writer."""
