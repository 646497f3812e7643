"""The 15 land-cover classes, the WorldCover mapping, and offline places with the land check."""

import numpy as np
import pytest

from core.errors import BadRequestError
from core.geo import Point
from core.sources.landcover import (
    IGBP_CODES,
    LAND_COVER_CLASSES,
    WORLDCOVER_TO_IGBP,
    LandCoverLookup,
    check_land_cover,
    class_shares,
)
from core.sources.places import reverse_geocode


def test_fifteen_classes_are_igbp_without_water_and_snow():
    assert len(LAND_COVER_CLASSES) == 15
    assert tuple(IGBP_CODES.values()) == LAND_COVER_CLASSES  # core.sources.land_cover_classes and the codes agree
    assert 15 not in IGBP_CODES and 17 not in IGBP_CODES
    assert IGBP_CODES[16] == "Barren or Sparsely Vegetated" and IGBP_CODES[13] == "Urban and Built-up Lands"
    assert set(WORLDCOVER_TO_IGBP.values()) <= set(IGBP_CODES)


def test_shares_leave_out_water_and_snow_and_map_worldcover():
    # 6 bare, 3 grassland, 5 water, 2 snow, 1 nodata
    codes = np.array([60] * 6 + [30] * 3 + [80] * 5 + [70] * 2 + [0])
    shares = class_shares(codes, WORLDCOVER_TO_IGBP)
    assert shares == {"Barren or Sparsely Vegetated": round(6 / 9, 4), "Grasslands": round(3 / 9, 4)}
    assert class_shares(np.array([17, 17, 15, 255]), None) == {}
    assert next(iter(class_shares(np.array([7, 16, 16]), None))) == "Barren or Sparsely Vegetated"


def test_lookup_result_refuses_an_unknown_class_and_names_are_checked():
    with pytest.raises(ValueError, match="not one of the 15"):
        LandCoverLookup(land_cover="Water Bodies", source="x")
    assert check_land_cover("grasslands") == "Grasslands"
    with pytest.raises(BadRequestError, match="Choose one of"):
        check_land_cover("Tundra")


def test_reverse_geocode_gives_state_and_country_offline():
    place = reverse_geocode(Point(24.8, -11.4))
    assert (place.state, place.country, place.country_code) == ("Tiris Zemmour", "Mauritania", "MR")
    assert place.label() == "Tiris Zemmour, Mauritania"


def test_a_point_in_the_open_ocean_is_refused():
    with pytest.raises(BadRequestError, match="open sea"):
        reverse_geocode(Point(0.0, -30.0))
