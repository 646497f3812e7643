"""The real TerraMind generator of terratorch with random weights (slow; skipped where terratorch is not installed).

Run where the optional extra is installed (`pip install -r requirements-terramind.txt`), e.g.
`python -m pytest tests/unit/test_backends_terramind_model.py -m slow`. About 4 GB of memory, a minute on a CPU.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("terratorch", reason="TerraMind is an optional extra: pip install -r requirements-terramind.txt")

from core.geo import Month, Point
from core.models.backends import backend_info
from core.models.backends.terramind import (
    LULC_CLASSES,
    MAE_PREFIX,
    S2L2A_BANDS,
    TOKENIZER_KEYS,
    TerraMindBackend,
    build_terramind_model,
    load_pretrained_files,
)
from core.models.backends.terramind_hub import HUB_FILES
from tests.support.tiny_generation import tiny_generation_request

pytestmark = pytest.mark.slow

# counted on terratorch 1.2.11's terramind_v1_base_generate(modalities=["coords"], outputs S2L2A, NDVI, LULC)
NETWORK_PARAMETERS = 272_418_048
TOTAL_PARAMETERS = 1_031_919_583  # + the S2L2A, NDVI (diffusion) and LULC tokenizers


@pytest.fixture(scope="module")
def model():
    return build_terramind_model(backend_info("terramind").options["terratorch_model"])


def test_the_base_generator_has_terramind_base_s_size(model):
    assert sum(p.numel() for p in model.sampler.model.parameters()) == NETWORK_PARAMETERS
    assert sum(p.numel() for p in model.parameters()) == TOTAL_PARAMETERS
    assert set(TOKENIZER_KEYS.values()) <= set(model.tokenizer.keys())


def test_random_terramind_draws_twelve_bands_and_its_maps_at_the_sahara_point(model):
    info = backend_info("terramind")
    backend = TerraMindBackend(replace(info, is_tiny=True), model)  # random weights: said as for tiny variants
    sahara = dict(point=Point(24.8, -11.4), month=Month(2020, 2), land_cover="Barren or Sparsely Vegetated")
    request = tiny_generation_request(**sahara, size_px=224, state="", country="Morocco")
    made = backend.generate(request)
    assert made.image.shape == (224, 224, 3) and made.image.dtype == np.uint8
    assert made.bands.names == S2L2A_BANDS and made.bands.size_px == 224 and made.bands.m_per_px == 10.0
    assert all(np.isfinite(a).all() and a.min() >= 0.0 for a in made.bands.arrays.values())
    land = made.bands.maps["land_cover"].array
    assert land.shape == (224, 224) and set(np.unique(land)) <= set(range(len(LULC_CLASSES)))
    assert -1.0 <= made.bands.maps["tm_ndvi"].array.min() <= made.bands.maps["tm_ndvi"].array.max() <= 1.0
    assert made.conditioning["coords_lon_lat"] == [-11.5, 24.75] and made.conditioning["decoding_steps"] == 2
    assert "random weights" in made.warnings[0] and "month (no date input)" in made.ignored


def test_published_file_layout_loads_into_terratorch_s_generator(model, tmp_path):
    import torch

    # files laid out as the Hub's: the network without terratorch's prefix, each tokenizer's own state dict
    files = {HUB_FILES[0][0]: tmp_path / "network.pt"}
    network = {k.removeprefix(MAE_PREFIX): v for k, v in model.state_dict().items() if k.startswith(MAE_PREFIX)}
    torch.save(network, files[HUB_FILES[0][0]])
    for (repo, _), key in zip(HUB_FILES[1:4], TOKENIZER_KEYS.values(), strict=True):
        files[repo] = tmp_path / f"{key.replace('@', '_')}.pt"
        torch.save(model.tokenizer[key].state_dict(), files[repo])
    files[HUB_FILES[4][0]] = tmp_path / "coords.json"
    model.tokenizer["coords"].text_tokenizer.save(str(files[HUB_FILES[4][0]]))
    first_key = next(iter(network))
    expected = network[first_key].clone()
    with torch.no_grad():
        model.state_dict()[MAE_PREFIX + first_key].zero_()
    loaded = load_pretrained_files(model, files)
    assert torch.equal(loaded.state_dict()[MAE_PREFIX + first_key], expected)
