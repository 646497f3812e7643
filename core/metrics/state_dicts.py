"""Loading standard weight files into networks defined here, with key and shape checks."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.errors import ModelUnavailableError

# Batch-norm step counters are absent from older files and irrelevant at evaluation.
_IGNORABLE_SUFFIXES = ("num_batches_tracked",)


def load_state_dict_checked(module: nn.Module, path: Path, what: str, drop_prefixes: tuple[str, ...] = ()) -> nn.Module:
    """Load a standard weight file into `module`, refusing files whose keys or shapes do not match.

    Args:
        module: the network, defined with the file's parameter names.
        path: the weight file (a state dict, or a dict holding one under "state_dict").
        what: the network's name for messages.
        drop_prefixes: keys of parts the file holds but the module does not define (e.g. a classifier).

    Returns:
        The module in eval mode.

    Raises:
        ModelUnavailableError: unreadable file, missing or unexpected parameters, wrong shapes.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated zip, wrong format
        raise ModelUnavailableError(
            f"The {what} weight file {path} cannot be read: {err}.", "Download it again."
        ) from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelUnavailableError(f"{path} does not hold a state dict.", f"Give the standard {what} weight file.")
    state = {k: v for k, v in state.items() if not k.startswith(drop_prefixes)} if drop_prefixes else state
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatches
        raise ModelUnavailableError(
            f"The {what} weight file {path} does not fit the network: {err}.", f"Give the standard {what} file."
        ) from err
    missing = [k for k in result.missing_keys if not k.endswith(_IGNORABLE_SUFFIXES)]
    unexpected = [k for k in result.unexpected_keys if not k.endswith(_IGNORABLE_SUFFIXES)]
    if missing or unexpected:
        raise ModelUnavailableError(
            f"The {what} weight file {path} has other parameters than expected "
            f"(missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
            f"unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''}).",
            f"Give the standard {what} weight file.",
        )
    return module.eval()
