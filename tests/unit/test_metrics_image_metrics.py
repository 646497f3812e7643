"""SSIM, PSNR, FID, LPIPS and CLIP score: agreement with references, behaviour, weight loading."""

from __future__ import annotations

import functools
import http.server
import itertools
import math
import threading

import numpy as np
import pytest
import torch
from torch import nn

from core.dataset.reader import read_dataset
from core.errors import BadRequestError, ModelUnavailableError
from core.metrics import available_metrics, psnr, ssim
from core.metrics.clip_score import ClipScoreMetric
from core.metrics.fid import FidMetric, fid_from_features
from core.metrics.lpips import AlexNetFeatures, LpipsMetric
from core.metrics.weights import ALEXNET, INCEPTION_FID, resolve_weight_file
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared
from tests.support.metrics_tiny_clip import build_tiny_clip, save_tiny_clip
from tests.support.metrics_weights import write_random_alexnet, write_random_inception


@pytest.fixture(scope="module")
def real_images() -> list[np.ndarray]:
    dataset = read_dataset(require_shared(ECOMAPPER_EXAMPLE))
    return [dataset[i].image for i in range(0, len(dataset), 6)]


def _noisy(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, image.shape)
    return np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def test_ssim_and_psnr_agree_with_scikit_image_on_real_samples(real_images):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    pairs = [(real_images[i], real_images[i + 1]) for i in range(0, len(real_images) - 1, 4)]
    pairs.append((real_images[0], _noisy(real_images[0], 20.0)))
    for real, fake in pairs:
        expected_ssim = structural_similarity(real, fake, channel_axis=-1, win_size=7, data_range=255)
        expected_psnr = peak_signal_noise_ratio(real, fake, data_range=255)
        assert ssim(real, fake) == pytest.approx(expected_ssim, abs=1e-3)
        assert psnr(real, fake) == pytest.approx(expected_psnr, abs=1e-3)
    assert ssim(real_images[0], real_images[0]) == pytest.approx(1.0)
    assert psnr(real_images[0], real_images[0]) == math.inf


def test_pixel_metrics_refuse_mismatched_images(real_images):
    with pytest.raises(BadRequestError, match="differ in size"):
        ssim(real_images[0], real_images[0][:256])
    with pytest.raises(BadRequestError, match="H x W x 3"):
        psnr(real_images[0][..., 0], real_images[0][..., 0])


class SmallFeatures(nn.Module):
    """A fixed random conv net: uint8 (N, 3, H, W) -> 32 features."""

    num_features = 32

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 5, stride=4), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.float() / 255.0)


def test_fid_is_zero_against_itself_and_grows_with_noise(real_images):
    images = [im[::4, ::4] for im in real_images]  # 128 px keeps it quick
    fid = FidMetric(feature_extractor=SmallFeatures(), batch_size=5)
    real_feats = fid.update(images, real=True)
    fid.update(images, real=False)
    assert fid.counts == (len(images), len(images))
    assert abs(fid.compute()) < 1e-6
    values = []
    for sigma in (5.0, 20.0, 50.0, 90.0):
        fid.reset()
        fid.update_features(real_feats, real=True)
        fid.update([_noisy(im, sigma, seed=i) for i, im in enumerate(images)], real=False)
        values.append(fid.compute())
    assert all(b > a for a, b in itertools.pairwise(values)), values
    assert values[0] > 1e-6


def test_fid_batched_features_equal_one_image_at_a_time(real_images):
    images = [im[::4, ::4] for im in real_images[:6]]
    batched = FidMetric(feature_extractor=SmallFeatures(), batch_size=6).features(images)
    single = np.concatenate(
        [FidMetric(feature_extractor=SmallFeatures(), batch_size=1).features([im]) for im in images]
    )
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-6)
    assert fid_from_features(batched, batched) == pytest.approx(0.0, abs=1e-6)


def test_fid_needs_two_samples_per_side():
    fid = FidMetric(feature_extractor=SmallFeatures())
    fid.update(np.zeros((1, 64, 64, 3), np.uint8), real=True)
    fid.update(np.zeros((1, 64, 64, 3), np.uint8), real=False)
    assert math.isnan(fid.compute())


# Names and shapes of the standard FID Inception file (pt_inception-2015-12-05-6726825d.pth).
STANDARD_INCEPTION_KEYS = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_4a_3x3.bn.running_var": (192,),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7c.branch3x3dbl_3b.conv.weight": (384, 384, 3, 1),
    "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    "fc.weight": (1008, 2048),
}


@pytest.mark.slow
def test_real_inception_loads_from_a_local_standard_file(tmp_path, settings, real_images):
    state = write_random_inception(settings.checkpoints_dir / "metrics" / INCEPTION_FID.filename)
    for key, shape in STANDARD_INCEPTION_KEYS.items():
        assert tuple(state[key].shape) == shape, key
    fid = FidMetric(settings, batch_size=2)  # found in checkpoints/metrics/, no download
    loaded = fid.extractor.state_dict()
    assert torch.equal(loaded["Mixed_7c.branch_pool.conv.weight"], state["Mixed_7c.branch_pool.conv.weight"])
    feats = fid.update(real_images[:3], real=True)
    assert feats.shape == (3, 2048) and np.isfinite(feats).all()
    assert feats.std() > 1e-2  # distinct, non-vanishing features
    fid.update(real_images[:3], real=False)
    assert abs(fid.compute()) < 1e-3


def test_a_weight_file_with_other_keys_is_refused(tmp_path, settings):
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3)}, wrong)
    with pytest.raises(ModelUnavailableError, match="other parameters than expected"):
        FidMetric(settings, weights=wrong)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ModelUnavailableError, match="cannot be read"):
        FidMetric(settings, weights=garbage)
    with pytest.raises(BadRequestError, match="does not exist"):
        FidMetric(settings, weights=tmp_path / "missing.pth")


def test_missing_weights_offline_give_a_clear_error(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    with pytest.raises(ModelUnavailableError, match=r"not on this machine .* offline mode is on"):
        FidMetric(settings.with_(offline=True))
    availability = available_metrics(settings)
    assert availability["ssim"].available and availability["psnr"].available
    assert not availability["fid"].available and "pt_inception" in availability["fid"].reason
    assert not availability["lpips"].available
    write_random_inception(settings.checkpoints_dir / "metrics" / INCEPTION_FID.filename)
    assert available_metrics(settings)["fid"].available


def test_weights_download_from_a_mirror_with_progress(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    served = tmp_path / "served"
    served.mkdir()
    payload = {"features.0.weight": torch.ones(2)}
    torch.save(payload, served / "alexnet.pth")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        path = resolve_weight_file(ALEXNET, settings, url=f"{base}/alexnet.pth", progress=False)
        assert path == settings.checkpoints_dir / "metrics" / ALEXNET.filename
        assert torch.equal(torch.load(path, weights_only=True)["features.0.weight"], torch.ones(2))
        with pytest.raises(ModelUnavailableError, match="Could not download"):
            resolve_weight_file(INCEPTION_FID, settings, url=f"{base}/missing.pth", progress=False)
        assert not (settings.checkpoints_dir / "metrics" / INCEPTION_FID.filename).exists()
    finally:
        server.shutdown()
        server.server_close()


def test_alexnet_features_have_the_standard_parameter_names():
    state = AlexNetFeatures().state_dict()
    assert sorted(state) == sorted(f"features.{i}.{p}" for i in (0, 3, 6, 8, 10) for p in ("weight", "bias"))
    assert tuple(state["features.0.weight"].shape) == (64, 3, 11, 11)
    assert tuple(state["features.10.weight"].shape) == (256, 256, 3, 3)


@pytest.mark.slow
def test_lpips_loads_alexnet_from_a_local_file_and_behaves(settings, real_images):
    write_random_alexnet(settings.checkpoints_dir / "metrics" / ALEXNET.filename)
    # the v0.1 heads come from the copy torchmetrics ships
    lpips = LpipsMetric(settings, download=False)
    images = np.stack([im[::2, ::2] for im in real_images[:3]])
    assert np.allclose(lpips.score(images, images), 0.0, atol=1e-7)
    distances = [lpips.score(images, np.stack([_noisy(im, s) for im in images])).mean() for s in (5, 25, 80)]
    assert distances[0] < distances[1] < distances[2]
    forward = lpips.score(images[:1], images[1:2])
    backward = lpips.score(images[1:2], images[:1])
    assert forward == pytest.approx(backward, rel=1e-5) and forward[0] > 0
    lpips.update(images[:1], images[1:2])
    lpips.update(images[1:2], images[2:3])
    assert lpips.compute() == pytest.approx((forward[0] + lpips.score(images[1:2], images[2:3])[0]) / 2, rel=1e-5)


def test_clip_score_with_a_tiny_clip_under_transformers_5(tmp_path, settings):
    folder = save_tiny_clip(tmp_path / "tiny-clip", seed=2)
    metric = ClipScoreMetric(settings, folder, scale="x100")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 48, 48, 3), dtype=np.uint8)
    prompts = [
        "a satellite image of mixed forests in krasnoyarsk krai, russia on july 2021.",
        "a very cloudy satellite image of evergreen needleleaf forests in british columbia, canada on april 2017.",
        "a satellite image of woody savannas in ethiopia on january 2018.",
    ]
    scores = metric.score(images, prompts)
    # reference: the model's own forward pass (logits = scale x cosine)
    model, processor = build_tiny_clip(seed=2)
    inputs = processor(
        text=prompts, images=list(images), return_tensors="pt", padding=True, truncation=True, max_length=77
    )
    with torch.no_grad():
        out = model(**inputs)
    cosine = torch.diagonal(out.logits_per_image).numpy() / model.logit_scale.exp().item()
    np.testing.assert_allclose(scores, np.maximum(100 * cosine, 0), rtol=1e-4, atol=1e-4)
    assert scores.max() > 0
    metric.update(images, prompts)
    assert metric.compute() == pytest.approx(max(float((100 * cosine).mean()), 0.0), rel=1e-4)
    # the paper's scale (and our default): the cosine itself
    paper = ClipScoreMetric(settings, folder)
    np.testing.assert_allclose(paper.score(images, prompts), np.maximum(cosine, 0), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("n_real", "n_fake", "dims"), [(10, 14, 64), (40, 30, 16), (5, 5, 3)])
def test_low_rank_fid_equals_torchmetrics_fid(n_real, n_fake, dims):
    from core.metrics.fid import fid_from_feature_stream, frechet_distance_low_rank

    rng = np.random.default_rng(n_real)
    real = rng.normal(size=(n_real, dims))
    fake = rng.normal(size=(n_fake, dims)) * 1.3 + 0.2
    reference = FidMetric(feature_extractor=nn.Identity(), num_features=dims)
    reference.update_features(real, real=True)
    reference.update_features(fake, real=False)
    assert frechet_distance_low_rank(real, fake) == pytest.approx(reference.compute(), rel=1e-6)
    # the stream keeps small sets in memory and switches to accumulated sums past `dims` rows
    n = min(n_real, n_fake)
    paired = FidMetric(feature_extractor=nn.Identity(), num_features=dims)
    paired.update_features(real[:n], real=True)
    paired.update_features(fake[:n], real=False)
    streamed = fid_from_feature_stream(zip(real[:n], fake[:n], strict=True), batch_size=4)
    assert streamed == pytest.approx(paired.compute(), rel=1e-6)
