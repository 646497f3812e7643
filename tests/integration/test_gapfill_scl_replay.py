"""The cloud mask of a real scene comes from its SCL asset, read over the footprint from the replay server."""

from __future__ import annotations

import pytest

from core.errors import NoImageryError
from core.generation.gapfill import MASK_DILATION_PX, fetch_cloud_mask
from core.geo import Month, Point
from tests.support.replay_fixtures import SAHARA_CLOUDY_COPY_ID, SAHARA_ITEM_ID
from tests.support.replay_server import FakeStacApi

SAHARA = Point(24.8, -11.4)
FEB_2020 = Month(2020, 2)


def test_the_mask_is_the_scl_cloud_of_that_scene(replay_server, data_settings):
    cloudy = fetch_cloud_mask(SAHARA, FEB_2020, data_settings, SAHARA_CLOUDY_COPY_ID, size_px=512)
    assert cloudy.shape == (512, 512)
    # the test SCL puts 160 of the footprint's 256 SCL rows under cloud, cirrus or shadow (top band),
    # i.e. ~320 of 512 rows, plus the dilation
    rows = cloudy.any(axis=1)
    assert rows[:300].all() and not rows[340:].any()
    assert cloudy.mean() == pytest.approx((320 + MASK_DILATION_PX) / 512, abs=4 / 512)
    clear = fetch_cloud_mask(SAHARA, FEB_2020, data_settings, SAHARA_ITEM_ID, size_px=512)
    assert not clear.any()


def test_a_scene_without_scl_says_so(replay_server, data_settings):
    replay_server.stac = FakeStacApi(replay_server.sahara_items(scl=None))
    with pytest.raises(NoImageryError, match="no scene classification layer"):
        fetch_cloud_mask(SAHARA, FEB_2020, data_settings, SAHARA_ITEM_ID)
