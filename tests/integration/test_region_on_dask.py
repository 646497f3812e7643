"""Region tiles made by dask workers (MetaEarth) and mosaicked here: the same bytes as the region made in
this process; MultiDiffusion and peer generators refused on a cluster in one line, before any look-up."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Settings
from core.errors import BadRequestError
from core.geo import Point
from core.models.spec import ModelSpec
from core.services import Region, check_cluster_region, make_region
from tests.support.tiny_generation import tiny_generation_request

SAHARA = Point(24.8, -11.43)


def _region(method: str = "metaearth", model: str = "tiny-random", mode: str = "text") -> Region:
    base = tiny_generation_request(point=SAHARA, model=ModelSpec(model), country="Morocco", state=None, mode=mode)
    return Region(base, 10.24, 7.68, method=method, per_tile=False)


@pytest.mark.slow
def test_tiles_made_on_two_workers_equal_the_region_made_here(tiny_engine):
    settings = Settings.from_env()
    here = make_region(_region(), settings, engine=tiny_engine, with_real=False)
    steps = []
    on_cluster = make_region(
        _region(), settings, with_real=False, scheduler="local:2", progress=lambda done, total, _m: steps.append(total)
    )
    assert len(here.run.tiles) == 6 and on_cluster.image.shape == here.image.shape == (96, 128, 3)
    assert np.array_equal(on_cluster.image, here.image)  # byte for byte
    assert on_cluster.run.timings_s["workers"] == 2.0 and steps == [6, 6]
    assert on_cluster.run.model_id == here.run.model_id
    assert on_cluster.result.model_info["tiles"] == here.result.model_info["tiles"]


def test_multidiffusion_and_peer_regions_stay_in_this_process():
    with pytest.raises(BadRequestError, match="MultiDiffusion regions run in this process"):
        make_region(_region(method="multidiffusion"), Settings.from_env(), with_real=False, scheduler="local:2")
    with pytest.raises(BadRequestError, match="only SD3 regions are split over workers"):
        check_cluster_region(_region(model="tiny-diffusionsat"))


def test_a_scheduler_that_is_none_is_refused_before_any_work():
    with pytest.raises(BadRequestError, match="'local' is not a dask scheduler"):
        make_region(_region(), Settings.from_env(), with_real=False, scheduler="local")
