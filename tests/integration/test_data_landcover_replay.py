"""Land-cover look-up through the fake land-cover STAC API and the generated rasters."""

import pytest

from core.errors import BadRequestError
from core.geo import Point
from core.sources.landcover import lookup_land_cover
from tests.support.replay_server import Fault

SAHARA = Point(24.8, -11.4)


def test_modis_majority_over_the_footprint(replay_server, data_settings):
    lookup = lookup_land_cover(SAHARA, data_settings)
    assert lookup.land_cover == "Barren or Sparsely Vegetated"
    assert lookup.source.startswith("MODIS MCD12Q1")
    # the generated raster has a 4 x 6 block of open shrublands (code 7) around the point
    assert set(lookup.shares) == {"Barren or Sparsely Vegetated", "Open Shrublands"}
    assert 0 < lookup.shares["Open Shrublands"] < 0.5
    assert abs(sum(lookup.shares.values()) - 1) < 1e-3


def test_worldcover_is_used_when_modis_has_no_item(replay_server, data_settings):
    replay_server.landcover.items = [i for i in replay_server.landcover.items if i["collection"] == "esa-worldcover"]
    lookup = lookup_land_cover(SAHARA, data_settings)
    assert lookup.land_cover == "Barren or Sparsely Vegetated" and lookup.source.startswith("ESA WorldCover")
    assert "Water Bodies" not in lookup.shares


def test_unreachable_source_means_choose_one(replay_server, data_settings):
    replay_server.inject("/lc/v1/search", *[Fault("status", status=503)] * 6)
    lookup = lookup_land_cover(SAHARA, data_settings)
    assert lookup.land_cover is None and lookup.shares == {}
    assert "choose one of the 15" in lookup.message and "503" in lookup.message
    assert lookup.service_failed  # a failure, not an answer (the CLI exits non-zero)


def test_no_item_means_choose_one(replay_server, data_settings):
    replay_server.inject("/lc/v1/search", Fault("empty"), Fault("empty"))
    lookup = lookup_land_cover(SAHARA, data_settings)
    assert lookup.land_cover is None and "no item covers this place" in lookup.message
    assert not lookup.service_failed  # an answer: nothing to classify here


def test_cached_lookup_works_offline(replay_server, data_settings):
    first = lookup_land_cover(SAHARA, data_settings)
    count = len(replay_server.requests)
    assert lookup_land_cover(SAHARA, data_settings.with_(offline=True)) == first
    assert len(replay_server.requests) == count


def test_ocean_point_is_refused(data_settings):
    with pytest.raises(BadRequestError, match="open sea"):
        lookup_land_cover(Point(-40.0, -120.0), data_settings)
