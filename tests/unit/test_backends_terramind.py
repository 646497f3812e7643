"""TerraMind (optional, through terratorch): its outputs turned into our files, its listing, its one-line refusal.

The conversion is tested on arrays shaped as terratorch returns them (12 x H x W digital numbers, 1 x H x W NDVI,
10 x H x W class scores); terratorch itself runs only in the slow test of `test_backends_terramind_model.py`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import numpy as np
import pytest

from core.config import Settings
from core.errors import ModelUnavailableError
from core.generation.runs import GenerationResult
from core.models.backends import backend_info, check_available, ignored_parts, load_backend
from core.models.backends.registry import BACKENDS, OPTIONAL_FAMILIES, TINY_BACKENDS, licence_of
from core.models.backends.terramind import (
    LULC_CLASSES,
    S2L2A_BANDS,
    coords_input,
    land_cover_shares,
    snapped,
    terramind_outputs,
)
from core.services import export_image, generator_catalog, write_ndvi_preview
from tests.support.tiny_generation import tiny_generation_request

HAS_TERRATORCH = importlib.util.find_spec("terratorch") is not None


def _dn(size: int = 8) -> np.ndarray:
    """12 bands of L2A digital numbers: band i holds 1000 * (i + 1), B04 (index 3) 1200 and B08 (index 7) 4800."""
    dn = np.stack([np.full((size, size), 1000.0 * (i + 1), np.float32) for i in range(12)])
    dn[3], dn[7] = 1200.0, 4800.0
    return dn


def test_twelve_digital_number_bands_become_named_reflectance_and_an_rgb_preview():
    made = terramind_outputs(_dn()[None])  # terratorch's batch of one
    assert made.bands.names == S2L2A_BANDS and len(S2L2A_BANDS) == 12 and made.bands.m_per_px == 10.0
    assert made.bands.arrays["B01"][0, 0] == pytest.approx(0.1) and made.bands.arrays["B12"][0, 0] == pytest.approx(1.2)
    # preview: B04 0.12, B03 0.30, B02 0.20 reflectance over 0..0.3 -> 102, 255, 170
    assert made.image.shape == (8, 8, 3) and made.image.dtype == np.uint8
    assert made.image[0, 0].tolist() == [102, 255, 170]
    assert made.bands.maps == {}


def test_negative_digital_numbers_are_clipped_to_zero_reflectance():
    dn = _dn()
    dn[0, 0, 0] = -50.0  # a de-standardised decoder can undershoot
    assert terramind_outputs(dn).bands.arrays["B01"][0, 0] == 0.0


def test_land_cover_scores_become_a_class_map_and_ndvi_stays_in_range():
    scores = np.zeros((1, 10, 8, 8), np.float32)
    scores[0, 2, :, :6] = 5.0  # trees on six columns
    scores[0, 6, :, 6:] = 5.0  # bare ground on two
    ndvi = np.full((1, 1, 8, 8), 0.6, np.float32)
    ndvi[0, 0, 0, 0] = 1.7  # out of NDVI's range: clipped
    made = terramind_outputs(_dn(), ndvi, scores)
    land = made.bands.maps["land_cover"]
    assert land.classes == LULC_CLASSES and land.classes[2] == "Trees" and land.classes[6] == "Bare ground"
    assert land.array[0].tolist() == [2.0] * 6 + [6.0] * 2
    assert land_cover_shares(land.array) == {"Trees": 0.75, "Bare ground": 0.25}
    own = made.bands.maps["tm_ndvi"].array
    assert own.max() == 1.0 and own[1, 1] == pytest.approx(0.6)


def test_shapes_that_are_not_terramind_outputs_are_refused():
    with pytest.raises(ValueError, match="S2L2A: expected 12"):
        terramind_outputs(np.zeros((4, 8, 8), np.float32))
    with pytest.raises(ValueError, match="one sample"):
        terramind_outputs(np.zeros((2, 12, 8, 8), np.float32))
    with pytest.raises(ValueError, match="LULC"):
        terramind_outputs(_dn(), lulc=np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError, match="maps must have the bands' shape"):
        terramind_outputs(_dn(8), ndvi=np.zeros((4, 4), np.float32))


def test_the_coordinates_go_in_as_lon_lat_on_a_quarter_degree_grid():
    assert coords_input(24.8, -11.4).tolist() == [[pytest.approx(-11.4), pytest.approx(24.8)]]
    assert (snapped(24.8), snapped(-11.4), snapped(-11.37)) == (24.75, -11.5, -11.25)


def test_terramind_files_are_twelve_bands_ndvi_both_ways_and_the_land_cover_map(tmp_path):
    import rasterio

    scores = np.zeros((10, 8, 8), np.float32)
    scores[5] = 1.0  # built area everywhere
    bands = terramind_outputs(_dn(), np.full((8, 8), 0.2, np.float32), scores).bands
    request = tiny_generation_request(seed=1)
    made = GenerationResult(images=[np.zeros((8, 8, 3), np.uint8)], prompts=request.prompts(), seed=1,
                            model_id="terramind", timings_s={}, request=request,
                            model_info={"model_id": "terramind"})  # fmt: skip
    files = export_image(replace(made, bands=bands), tmp_path / "tm.png")
    assert set(files.as_dict()) == {"png", "geotiff", "ndvi", "tm_ndvi", "land_cover"}
    with rasterio.open(files.geotiff) as src:
        assert src.count == 12 and src.descriptions == S2L2A_BANDS and src.res == (10.0, 10.0)
        assert src.read(4)[0, 0] == pytest.approx(0.12)
    with rasterio.open(files.ndvi) as src:  # from the generated B04 and B08: (0.48 - 0.12) / 0.6
        assert src.read(1)[0, 0] == pytest.approx(0.6)
    with rasterio.open(files.maps["tm_ndvi"]) as src:  # TerraMind's own NDVI output, kept apart
        assert src.read(1)[0, 0] == pytest.approx(0.2) and src.tags()["unit"].startswith("NDVI")
    with rasterio.open(files.maps["land_cover"]) as src:
        assert src.read(1)[0, 0] == 5.0 and "5=Built area" in src.tags()["classes"]
    assert write_ndvi_preview(replace(made, bands=bands), tmp_path / "ndvi.png").is_file()


def test_terramind_is_listed_as_an_optional_generator_of_coordinates_alone(settings):
    info = backend_info("terramind")
    assert OPTIONAL_FAMILIES["terramind"] == ("terratorch", "pip install -r requirements-terramind.txt")
    assert "Apache-2.0" in licence_of("terramind") and info.native_size_px == 224
    assert not any(tiny.family == "terramind" for tiny in TINY_BACKENDS.values())  # it needs terratorch
    row = next(row for row in generator_catalog(settings) if row["id"] == "terramind")
    assert row["bands"] and not row["redraws_real"] and row["needs"] == "pip install -r requirements-terramind.txt"
    assert {"climate", "scenario", "month (no date input)"} <= set(row["ignores"])
    request = tiny_generation_request()
    ignored = ignored_parts(request, info.uses)
    assert "month (no date input)" in ignored and "land cover and place names (no text prompt)" in ignored
    assert "month (no date input)" not in ignored_parts(request, BACKENDS["copgen"].uses)


@pytest.mark.skipif(HAS_TERRATORCH, reason="terratorch is installed here: the refusal cannot happen")
def test_without_terratorch_terramind_refuses_in_one_line_naming_the_install_command(settings):
    status = check_available("terramind", settings)
    assert not status.available and "pip install -r requirements-terramind.txt" in status.detail
    with pytest.raises(ModelUnavailableError, match="optional extra") as refused:
        load_backend("terramind", settings)
    assert "\n" not in str(refused.value) and "requirements-terramind.txt" in refused.value.fix


@pytest.mark.skipif(HAS_TERRATORCH, reason="terratorch is installed here: the refusal cannot happen")
def test_the_generate_service_refuses_terramind_before_any_work_without_terratorch():
    from core.services import ModelSpec, generate

    offline = Settings.from_env().with_(offline=True, boundaries_url="")
    request = tiny_generation_request(model=ModelSpec("terramind"))
    with pytest.raises(ModelUnavailableError, match="terratorch"):
        generate(request, offline)
