"""Where TerraMind's weights live on the Hub and whether they are in the Hugging Face cache (no torch, no terratorch).

The registry asks this for `check_available`, `download` fetches through it, and the backend loads what it finds.
"""

from __future__ import annotations

from pathlib import Path

from core.config import Settings
from core.errors import ModelUnavailableError

# Hub files the base generator reads: the network and the tokenizers of its input and outputs (terratorch's names).
HUB_FILES = (
    ("ibm-esa-geospatial/TerraMind-1.0-base", "TerraMind_v1_base.pt"),
    ("ibm-esa-geospatial/TerraMind-1.0-Tokenizer-S2L2A", "TerraMind_Tokenizer_S2L2A.pt"),
    ("ibm-esa-geospatial/TerraMind-1.0-Tokenizer-NDVI", "TerraMind_Tokenizer_NDVI.pt"),
    ("ibm-esa-geospatial/TerraMind-1.0-Tokenizer-LULC", "TerraMind_Tokenizer_LULC.pt"),
    ("ibm-esa-geospatial/TerraMind-1.0-Tokenizer-Coords", "config.json"),
)


def terramind_files(settings: Settings, hf_cache_dir=None, *, download: bool = False) -> dict[str, Path]:
    """The Hub files TerraMind reads (`HUB_FILES`), from the Hugging Face cache; fetched only when `download`.

    Raises:
        ModelUnavailableError: a file is not here (offline or not downloaded), or the Hub refused.
    """
    from huggingface_hub import hf_hub_download

    found = {}
    for repo, filename in HUB_FILES:
        try:
            found[repo] = Path(hf_hub_download(repo, filename, cache_dir=hf_cache_dir, endpoint=settings.hf_endpoint
                                               or None, local_files_only=not download or settings.offline))  # fmt: skip
        except Exception as err:  # huggingface_hub raises many types; one message
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            how = "Run `python -m core download --model terramind` while online." if not download else (
                "Check the network and the Hub's answer, then retry.")  # fmt: skip
            raise ModelUnavailableError(f"TerraMind's {repo}/{filename} is not available: {first}", how) from err
    return found
