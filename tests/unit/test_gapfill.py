"""Cloud gap filling: SCL masks, SD3 inpainting that keeps clear pixels byte-identical, the honest evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from core.generation.gapfill import cloud_mask_from_scl, fill_clouds, fill_with_mean, masked_psnr, paste_into
from core.generation.prompts import Prompts
from core.models.engine import Engine, FrameJob
from core.models.loading import load_pipeline
from core.models.spec import ModelSpec
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

REAL_PNG = ECOMAPPER_EXAMPLE / "2021-2022" / "9137"


def real_image(size: int) -> np.ndarray:
    from PIL import Image

    folder = require_shared(REAL_PNG)
    path = sorted(folder.glob("*.png"))[2]
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.LANCZOS))


def test_scl_mask_takes_cloud_and_shadow_classes_and_upsamples_by_nearest():
    scl = np.full((32, 32), 4, np.uint8)  # vegetation
    scl[:8] = 9  # high cloud
    scl[8:10] = 3  # cloud shadow
    scl[10:12] = 10  # cirrus
    scl[20:, :4] = 6  # water: not cloud
    mask = cloud_mask_from_scl(scl, 64, dilation_px=0)
    assert mask.shape == (64, 64)
    assert mask[:24].all() and not mask[24:].any()
    grown = cloud_mask_from_scl(scl, 64, dilation_px=2)
    assert grown[:26].all() and not grown[26:].any()


def test_inpainting_leaves_unmasked_pixels_identical(settings, tmp_path):
    from core.errors import BadRequestError
    from core.models.tiny import INPAINT_LATENT_CHANNELS, build_tiny_pipeline

    # SD3 inpainting needs SD3's 16 latent channels: a tiny SD3 saved with them, loaded as users load a folder
    folder = tmp_path / "tiny-sd3-16ch"
    build_tiny_pipeline(seed=0, latent_channels=INPAINT_LATENT_CHANNELS).save_pretrained(folder)
    engine = Engine(load_pipeline(ModelSpec(str(folder)), settings.with_(offline=True)))
    with pytest.raises(BadRequestError, match="16 latent channels"):
        load_pipeline(ModelSpec("tiny-random"), settings.with_(offline=True)).pipeline_for("inpaint")
    image = real_image(64)
    mask = np.zeros((64, 64), bool)
    mask[10:40, 20:50] = True
    prompts = Prompts(spatial="a satellite image of Croplands in Kenya on March 2021.", climate="")
    filled = fill_clouds(image, mask, engine, prompts, num_inference_steps=2, guidance_scale=1.0)
    assert filled.dtype == np.uint8 and filled.shape == image.shape
    assert np.array_equal(filled[~mask], image[~mask])  # byte-identical clear pixels
    assert np.abs(filled[mask].astype(int) - image[mask].astype(int)).mean() > 1.0  # repainted
    # the inpainting pipeline alone changes clear pixels (VAE round trip): the paste is what keeps them
    raw, _ = engine.run_frames(
        [FrameJob(prompts, 0, image, mask)],
        mode="inpaint",
        size_px=64,
        num_inference_steps=2,
        guidance_scale=1.0,
        strength=1.0,
    )
    assert not np.array_equal(raw[0][~mask], image[~mask])
    assert engine.loaded.shares_modules_with(engine.loaded.pipeline_for("inpaint"))


def test_baselines_and_masked_scores():
    image = real_image(64)
    mask = np.zeros((64, 64), bool)
    mask[:16] = True
    mean_fill = fill_with_mean(image, mask)
    assert np.array_equal(mean_fill[~mask], image[~mask])
    assert (mean_fill[mask] == np.round(image[~mask].mean(axis=0)).astype(np.uint8)).all()
    assert masked_psnr(image, image, mask) == float("inf")
    assert masked_psnr(image, paste_into(image, 255 - image, mask), mask) < 20
    with pytest.raises(Exception, match="differ in size"):
        paste_into(image, image[:32], mask)


@pytest.mark.slow
def test_evaluation_cases_are_real_clear_scenes_with_other_scenes_masks():
    from core.dataset.reader import read_dataset
    from core.evaluation.gap_filling import CLEAR_MAX, build_cases, run_gap_filling_evaluation

    data = require_shared(ECOMAPPER_EXAMPLE)
    dataset = read_dataset(data, check_pixels=True)
    cases = build_cases(dataset, max_cases=4, size_px=128)
    assert len(cases) == 4 and len({c.name.split("@")[0] for c in cases}) >= 2  # several places
    for case in cases:
        assert case.mask_source != case.name and 0.05 < case.mask.mean() < 0.8
        assert dataset.get(case.name).metadata.cloud_fraction <= CLEAR_MAX
    rows, _ = run_gap_filling_evaluation(data, max_cases=4, size_px=128)
    assert [r["method"] for r in rows] == ["nearest clear earlier month", "mean of clear pixels"]
    assert all(np.isfinite(r["psnr_db"]) and -1 <= r["ssim"] <= 1 for r in rows)
