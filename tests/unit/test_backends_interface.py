"""Every family's tiny random variant end to end through the backend interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError, ModelUnavailableError
from core.generation.request import GenerationRequest
from core.geo import Point
from core.models.backends import (
    BACKENDS,
    TINY_BACKENDS,
    Uses,
    backend_info,
    check_available,
    ignored_parts,
    load_backend,
)
from core.models.backends.text2earth import resolution_level, resolution_prompt
from tests.support.tile_server import TileServer

EDINBURGH = Point(55.9533, -3.1883)


def _fields_image() -> np.ndarray:
    """A dark field with a bright square: clear edges for a Canny layout."""
    image = np.full((64, 64, 3), 40, np.uint8)
    image[16:48, 16:48] = 220
    return image


def _request(**changes) -> GenerationRequest:
    base = dict(
        point=EDINBURGH,
        month="2021-06",
        land_cover="Croplands",
        cloud_fraction=0.2,
        climate=ClimateValues(14.0, 2.0, 18.0),
        size_px=64,
        num_inference_steps=2,
        seed=5,
        state="Scotland",
        country="United Kingdom",
        reference_image=_fields_image(),
    )
    return GenerationRequest(**{**base, **changes})


@pytest.fixture(scope="module")
def tiny(request):
    """Loaded tiny backends, shared by the tests of this module (building them is the slow part)."""
    from core.config import Settings

    cache: dict = {}

    def get(backend_id: str, settings: Settings | None = None):
        if backend_id not in cache:
            cache[backend_id] = load_backend(backend_id, settings or Settings())
        return cache[backend_id]

    return get


@pytest.mark.parametrize("backend_id", ["tiny-diffusionsat", "tiny-geosynth-canny", "tiny-text2earth"])
def test_each_family_makes_a_seeded_image(tiny, backend_id):
    backend = tiny(backend_id)
    first = backend.generate(_request())
    again = backend.generate(_request())
    other = backend.generate(_request(seed=6))
    assert first.image.shape == (64, 64, 3) and first.image.dtype == np.uint8
    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)
    assert first.backend_id == backend_id
    assert any("random weights" in w for w in first.warnings)


def test_sd3_family_goes_through_the_engine_and_peers_through_their_backend(tiny, settings):
    from core.services import ModelSpec, load_engine
    from core.services.generate import generate

    result = generate(_request(model=ModelSpec("tiny-random"), reference_image=None), settings)
    assert result.image.shape == (64, 64, 3)
    assert "Croplands" in result.prompts.spatial and "temperature" in result.prompts.climate
    with pytest.raises(BadRequestError, match="SD3 model"):
        load_backend("tiny-random", settings)
    peer = load_engine(ModelSpec("tiny-diffusionsat"), settings)
    assert peer.backend_id == "tiny-diffusionsat" and peer.uses.metadata


def test_diffusionsat_reads_metadata_not_climate(tiny):
    backend = tiny("tiny-diffusionsat")
    result = backend.generate(_request())
    assert result.ignored == ("climate",)
    assert len(result.conditioning["metadata"]) == 7
    assert result.conditioning["prediction_type"] == "v_prediction"
    assert result.conditioning["gsd_m"] == 5120 / 64
    assert any("not on Sentinel-2" in w for w in result.warnings)
    elsewhere = backend.generate(_request(point=Point(-33.9, 18.4), country="South Africa", state=None))
    assert not np.array_equal(result.image, elsewhere.image)  # the coordinates reach the UNet


def test_weather_diffusionsat_reads_the_climate(tiny):
    backend = tiny("tiny-diffusionsat-weather")
    warm = backend.generate(_request())
    hot = backend.generate(_request(climate=ClimateValues(30.0, 2.0, 18.0)))
    assert len(warm.conditioning["metadata"]) == 10 and "climate" not in warm.ignored
    assert not np.array_equal(warm.image, hot.image)
    with pytest.raises(BadRequestError, match="climate"):
        backend.generate(_request(climate=None))


def test_geosynth_canny_layout_comes_from_the_real_image(tiny):
    backend = tiny("tiny-geosynth-canny")
    result = backend.generate(_request())
    assert result.conditioning["layout"]["source"] == "canny edges of the real image"
    assert set(np.unique(result.control_image)) == {0, 255}  # edges found, white on black
    flat = backend.generate(_request(reference_image=np.full((64, 64, 3), 90, np.uint8)))
    assert not np.array_equal(result.image, flat.image)  # the layout steers the image
    with pytest.raises(BadRequestError, match="real image"):
        backend.generate(_request(reference_image=None))


def test_map_sat_uses_osm_tiles_at_zoom_17_and_its_fixed_prompt(tiny, settings):
    with TileServer() as server:
        local = settings.with_(osm_tile_url=server.url_template)
        backend = load_backend("tiny-map-sat", local)
        result = backend.generate(_request())
    assert result.prompt == "convert this openstreetmap into its satellite view"
    layout = result.conditioning["layout"]
    assert layout["zoom"] == 17 and layout["attribution"] == local.osm_attribution
    assert all(path.startswith("/tiles/17/") for path in server.requests)
    assert "land cover and place names (no text prompt)" in result.ignored
    assert any("smaller area" in w for w in result.warnings)


def test_text2earth_prefix_follows_the_ground_size(tiny):
    result = tiny("tiny-text2earth").generate(_request(size_px=512))
    assert result.prompt.startswith("14_GOOGLE_LEVEL_a satellite image of Croplands")
    assert result.conditioning["google_level"] == 14


@pytest.mark.parametrize(
    ("gsd_m", "level"), [(0.5, 18), (1.0, 17), (8.0, 14), (10.0, 14), (20.0, 13), (128.0, 10), (1000.0, 10)]
)
def test_text2earth_resolution_levels(gsd_m, level):
    assert resolution_level(gsd_m) == level
    assert resolution_prompt(gsd_m, "x") == f"{level}_GOOGLE_LEVEL_x"


def test_request_validation():
    with pytest.raises(BadRequestError, match="land cover"):
        _request(land_cover="Water")
    with pytest.raises(BadRequestError, match="control image"):
        _request(layout="image")
    with pytest.raises(BadRequestError, match="multiple of 16"):
        _request(size_px=100)
    with pytest.raises(BadRequestError, match="day"):
        _request(day=32)


def test_ignored_parts_follow_what_a_family_uses():
    request = _request(climate=None, observed_climate=ClimateValues(14.0, 2.0, 18.0), scenario=Scenario.of_change(2.0))
    assert ignored_parts(request, Uses(metadata=True, text=True, climate=True)) == ()
    assert ignored_parts(request, Uses(text=False, control="osm")) == (
        "climate",
        "scenario",
        "land cover and place names (no text prompt)",
    )


def test_registry_lists_every_family_with_a_tiny_variant():
    from core.models.backends.registry import OPTIONAL_FAMILIES

    families = {info.family for info in BACKENDS.values()}
    assert families == {"sd3", "diffusionsat", "geosynth", "map-sat", "text2earth", "copgen", "zoomldm", "aerogen",
                        "terramind"}  # fmt: skip
    # a family on an optional library (TerraMind: terratorch) cannot be built in code without it: no tiny variant
    assert families - set(OPTIONAL_FAMILIES) == {info.family for info in TINY_BACKENDS.values()}
    with pytest.raises(BadRequestError, match="Unknown generator"):
        backend_info("diffusionsat-1024")


def test_missing_weights_say_how_to_get_them(settings):
    offline = settings.with_(offline=True)
    status = check_available("diffusionsat-256", offline)
    assert not status.available and "Zenodo" in status.detail
    status = check_available("map-sat", offline)
    assert not status.available and "mespinosami/controlearth" in status.detail
    with pytest.raises(ModelUnavailableError, match="checkpoint"):
        load_backend("diffusionsat-512", offline)
    assert check_available("tiny-map-sat", offline).available


def test_every_tiny_generator_is_always_offered_by_a_shared_server():
    from core.model_policy import ALWAYS_ALLOWED, ModelPolicy

    assert set(ALWAYS_ALLOWED) == set(TINY_BACKENDS)  # built in code: nothing to read or download
    policy = ModelPolicy.for_server("sd3-medium", Path("/srv/checkpoints"))
    for backend_id in TINY_BACKENDS:
        policy.check("model", backend_id)
    with pytest.raises(BadRequestError, match="does not offer the model 'diffusionsat-256'"):
        policy.check("model", "diffusionsat-256")
