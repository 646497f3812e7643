"""Names from data that become paths: one check (issue 26, item 1)."""

from __future__ import annotations

import pytest

from core import limits
from core.errors import BadRequestError
from core.experiments.extremes import ExtremesRequest
from core.io.safe_names import MAX_NAME_CHARS, safe_label, safe_name, to_safe_name


@pytest.mark.parametrize(
    "name",
    ["..", ".", "../../x", "a/b", "a\\b", "/etc", "a..b", "", " a", "a b", "a_b", "-a", "x" * (MAX_NAME_CHARS + 1),
     "a\x00b", "é"],
)  # fmt: skip
def test_a_name_that_could_leave_its_folder_is_refused_with_the_value(name):
    with pytest.raises(BadRequestError) as caught:
        safe_name(name, "location id")
    assert "location id" in caught.value.problem
    assert repr(name[:40]) in caught.value.problem
    assert "\n" not in str(caught.value)


def test_safe_names_come_back_unchanged():
    assert safe_name("1", "location id") == "1"
    assert safe_name("loc-7.v2", "location id") == "loc-7.v2"
    assert safe_name("a_b", "sample key", underscore=True) == "a_b"
    assert safe_name("x" * MAX_NAME_CHARS, "location id") == "x" * MAX_NAME_CHARS


def test_free_text_becomes_a_safe_name_or_is_refused():
    assert to_safe_name("24.8000N_11.4000W_2020-02_seed0_text", "export stem") == "24.8000N_11.4000W_2020-02_seed0_text"
    assert to_safe_name("../../etc/passwd", "export stem") == "etc-passwd"
    assert to_safe_name("a...b c", "export stem") == "a.b-c"
    with pytest.raises(BadRequestError, match="export stem"):
        to_safe_name("/../", "export stem")


def test_a_label_keeps_the_papers_place_names_but_not_separators():
    assert safe_label("Cape Town, South Africa", "location") == "Cape Town, South Africa"
    for bad in ("../x", "a/b", "..", ".hidden", "a\nb", "", "x" * (MAX_NAME_CHARS + 1)):
        with pytest.raises(BadRequestError, match="location"):
            safe_label(bad, "location")


def test_the_extremes_request_bounds_every_count_and_their_product(tmp_path):
    with pytest.raises(BadRequestError, match=r"number of --seeds = 101 is outside 1\.\.100"):
        ExtremesRequest(out_dir=tmp_path, seeds=tuple(range(101)))
    with pytest.raises(BadRequestError, match="--seeds = -1 is outside"):
        ExtremesRequest(out_dir=tmp_path, seeds=(-1,))
    with pytest.raises(BadRequestError, match="--guidance = nan"):
        ExtremesRequest(out_dir=tmp_path, guidance_scale=float("nan"))
    with pytest.raises(BadRequestError, match="'Moon Rock' is not a land-cover class"):
        ExtremesRequest(out_dir=tmp_path, land_covers=("Moon Rock",))
    with pytest.raises(BadRequestError, match="'Smarch' is not a month name"):
        ExtremesRequest(out_dir=tmp_path, months=("Smarch",))
    with pytest.raises(BadRequestError, match="location '../../x' is not usable"):
        ExtremesRequest(out_dir=tmp_path, locations=("../../x",))
    # 100 seeds x 8 places x 8 covers x 5 months x 27 climates = 864_000 images
    with pytest.raises(BadRequestError, match="seeds x locations x land covers x months x climates = 864_000"):
        ExtremesRequest(out_dir=tmp_path, seeds=tuple(range(100)), grid="full")
    paper = ExtremesRequest(out_dir=tmp_path, months=("july",), land_covers=("croplands",))
    assert paper.months == ("July",) and paper.land_covers == ("Croplands",)
    assert limits.EXPERIMENT_IMAGES.high >= 3 * 8 * 8 * 5 * 27  # the paper's full grid still runs


def test_evaluation_keys_and_their_files_stay_in_the_output_folder(tmp_path):
    from core.evaluation.results import ResultStore, result_key

    key = result_key("../../lora", "text", "../../x@2017-01", "s")
    assert "/" not in key and ".." not in key and key[0].isalnum()
    assert key.startswith("lora__text__._._x_2017-01__") and len(key) == len("lora__text__._._x_2017-01__") + 12
    assert result_key("m", "text", "loc1@2017-01") == result_key("m", "text", "loc1@2017-01")  # stable
    store = ResultStore(tmp_path)
    assert store.image_path(key).parent == tmp_path / "images"
    assert store.features_path(key).parent == store.features_dir
    for bad in ("../../x", "a/b", ".."):
        with pytest.raises(BadRequestError, match="result key"):
            store.image_path(bad)
        with pytest.raises(BadRequestError, match="result key"):
            store.features_path(bad)


def test_export_stems_never_hold_a_separator_or_dots():
    from core.geo import Month, Point
    from core.services.exports import export_stem

    month = Month(2020, 2)
    assert export_stem(Point(24.8, -11.4), month, 0, "text") == "24.8000N_11.4000W_2020-02_seed0_text"
    stem = export_stem(Point(24.8, -11.4), month, 0, "../../x")
    assert stem == "24.8000N_11.4000W_2020-02_seed0_.-.-x" and "/" not in stem and ".." not in stem
    with pytest.raises(BadRequestError, match="export name"):
        export_stem(Point(24.8, -11.4), month, 0, "m" * 200)


def test_run_future_refuses_a_climbing_id_before_any_work(tmp_path):
    from core.experiments.future import FutureRow, run_future
    from core.geo import Month

    row = FutureRow("../../climbed", Month(2017, 7), "Croplands", 0.0, "Ontario, Canada", (1.0, 1.0, 1.0), {}, None)
    with pytest.raises(BadRequestError, match="location id '../../climbed'"):
        run_future(object(), [row], tmp_path / "out")  # no pipeline is touched: the id is refused first
    assert list(tmp_path.iterdir()) == []
