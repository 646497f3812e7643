"""The paper's metric conventions on known tensors: CLIP scale, Inception Score, torch-fidelity input,
JPEG round trip; the ControlNet control month drawn 1-6 months earlier; NASA POWER for missing climate."""

from __future__ import annotations

import io
import math
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

from core.errors import BadRequestError
from core.metrics.conventions import (
    clip_on_scale,
    fidelity_normalize,
    inception_score,
    jpeg_round_trip,
    tf1_bilinear_resize,
)


def test_clip_scales():
    assert clip_on_scale(34.5, "cosine") == pytest.approx(0.345)
    assert clip_on_scale(34.5, "x100") == 34.5
    np.testing.assert_allclose(clip_on_scale(np.array([32.0, 40.0]), "cosine"), [0.32, 0.40])
    with pytest.raises(ValueError):
        clip_on_scale(1.0, "percent")


def test_inception_score_on_known_logits():
    # every sample unsure in the same way: the conditional equals the marginal, IS = 1
    assert inception_score(torch.zeros(50, 1008))[0] == pytest.approx(1.0)
    assert inception_score(torch.zeros(50, 1008), convention="torchmetrics")[0] == pytest.approx(1.0)
    # each split holds 4 samples, each certain of a different one of 4 classes: IS = 4 in every split
    logits = torch.full((40, 1008), -1e4)
    for i in range(40):
        logits[i, i % 4] = 1e4
    mean, std = inception_score(logits, shuffle=False)
    assert mean == pytest.approx(4.0, rel=1e-6) and std == pytest.approx(0.0, abs=1e-9)
    # two equally likely classes per sample, 8 classes in a split -> exp(KL) = 8 / 2 = 4
    logits = torch.full((80, 1008), -1e4)
    for i in range(80):
        logits[i, (2 * i) % 8] = 0.0
        logits[i, (2 * i + 1) % 8] = 0.0
    assert inception_score(logits, shuffle=False)[0] == pytest.approx(4.0, rel=1e-6)
    # against a direct formula on random logits, one split
    rng = torch.Generator().manual_seed(0)
    random_logits = torch.randn(30, 20, generator=rng, dtype=torch.float64)
    p = torch.softmax(random_logits, 1)
    marginal = p.mean(0, keepdim=True)
    expected = math.exp(float((p * (p.log() - marginal.log())).sum(1).mean()))
    assert inception_score(random_logits, splits=1)[0] == pytest.approx(expected, rel=1e-9)


def test_inception_score_from_stored_pool_features():
    from core.metrics.conventions import inception_score_from_pool_features

    rng = np.random.default_rng(3)
    features = rng.normal(size=(20, 16))
    weight = rng.normal(size=(8, 16))
    expected = inception_score(torch.from_numpy(features @ weight.T))
    assert inception_score_from_pool_features(features, weight) == pytest.approx(expected)
    paper = inception_score(torch.from_numpy(features @ weight.T).float(), convention="torchmetrics", seed=5)
    assert inception_score_from_pool_features(features, weight, convention="torchmetrics", seed=5) == pytest.approx(
        paper, rel=1e-5
    )


def _clustered_logits(n: int, classes: int = 50, seed: int = 0) -> torch.Tensor:
    """Logits whose samples are sorted by class: unshuffled splits would each see few classes."""
    rng = torch.Generator().manual_seed(seed)
    labels = torch.sort(torch.randint(0, classes, (n,), generator=rng)).values
    logits = torch.randn(n, classes, generator=rng)
    logits[torch.arange(n), labels] += 6.0
    return logits


@pytest.mark.parametrize("n", [200, 203])  # 203: chunk and i*N//splits cut differently
def test_the_paper_convention_is_torchmetrics_inception_score(n):
    """The original's batch_compute_metrics.py ran torchmetrics' `InceptionScore()`: the same features
    through it (an identity extractor) and through ours agree, for the same shuffle seed."""
    from torchmetrics.image.inception import InceptionScore

    class Identity(torch.nn.Module):
        def forward(self, x):
            return x

    logits = _clustered_logits(n)
    metric = InceptionScore(feature=Identity())
    metric.update(logits)
    torch.manual_seed(11)  # torchmetrics draws its permutation from the global generator
    expected = [float(v) for v in metric.compute()]
    assert inception_score(logits, convention="torchmetrics", seed=11) == pytest.approx(expected, rel=1e-5)
    # the shuffle matters on clustered samples: unshuffled splits see few classes each
    assert inception_score(logits, shuffle=False)[0] < 0.8 * expected[0]


def test_the_torch_fidelity_convention_shuffles_with_its_fixed_seed():
    """torch-fidelity: RandomState(2020) permutation, split i = rows i*N//10 .. (i+1)*N//10, np.std."""
    import math

    logits = _clustered_logits(203).double()
    order = torch.from_numpy(np.random.RandomState(2020).permutation(203))
    shuffled = logits[order]
    scores = []
    for i in range(10):
        p = torch.softmax(shuffled[i * 203 // 10 : (i + 1) * 203 // 10], 1)
        scores.append(math.exp(float((p * (p.log() - p.mean(0, keepdim=True).log())).sum(1).mean())))
    assert inception_score(logits) == pytest.approx((np.mean(scores), np.std(scores)), rel=1e-9)
    with pytest.raises(ValueError, match="convention"):
        inception_score(logits, convention="tf")


def test_tf1_bilinear_resize_has_no_half_pixel_offset():
    x = torch.tensor([[[[0.0, 10.0]]]])  # 1 x 1 x 1 x 2
    up = tf1_bilinear_resize(x.expand(1, 1, 2, 2), 4)
    # TF1 (align_corners=False, no half-pixel centres): source = destination x 2/4 -> 0, .5, 1, 1.5 (clamped)
    np.testing.assert_allclose(up[0, 0, 0].numpy(), [0.0, 5.0, 10.0, 10.0])
    same = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert torch.equal(tf1_bilinear_resize(same, 4), same)
    down = tf1_bilinear_resize(torch.arange(8.0).reshape(1, 1, 1, 8).expand(1, 1, 8, 8), 4)
    np.testing.assert_allclose(down[0, 0, 0].numpy(), [0.0, 2.0, 4.0, 6.0])  # every other pixel, no averaging
    assert float(fidelity_normalize(torch.tensor(128.0))) == 0.0
    assert float(fidelity_normalize(torch.tensor(0.0))) == -1.0


def test_fid_inception_torch_fidelity_input_differs_from_pytorch_fid():
    from core.metrics.inception import FidInceptionV3

    torch.manual_seed(0)
    network = FidInceptionV3().eval()
    fidelity = FidInceptionV3("torch-fidelity").eval()
    fidelity.load_state_dict(network.state_dict())
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        a, b = network(images), fidelity(images)
        expected = fidelity._input(images)
        logits = fidelity.logits_unbiased(images)
    assert a.shape == b.shape == (2, 2048)
    assert float((a - b).abs().max() / a.abs().max()) > 1e-3  # (random weights: tiny activations)
    manual = fidelity_normalize(tf1_bilinear_resize(images.float(), 299))
    assert torch.allclose(expected, manual)
    assert torch.allclose(logits, b @ fidelity.fc.weight.T)


def test_jpeg_round_trip_is_pils_quality_75():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out = jpeg_round_trip(image)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG")  # PIL's default quality is 75
    expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    assert out.shape == image.shape and np.array_equal(out, expected)
    assert not np.array_equal(out, image)
    assert not np.array_equal(jpeg_round_trip(image, 95), out)


def test_control_month_is_drawn_from_1_to_6_months_earlier_with_a_seed():
    from core.dataset.reader import read_dataset
    from core.evaluation.run import EvaluationConfig, control_sample
    from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

    dataset = read_dataset(require_shared(ECOMAPPER_EXAMPLE) / "Test-Batch")
    config = EvaluationConfig("tiny-random", dataset.root if hasattr(dataset, "root") else ".", "out")
    late = [s for s in dataset.samples if s.metadata.month.year == 2021]
    gaps = Counter()
    for sample in late:
        control = control_sample(dataset, sample, config)
        gap = (sample.metadata.month.year - control.metadata.month.year) * 12 + (
            sample.metadata.month.month - control.metadata.month.month
        )
        assert 1 <= gap <= 6 and control.location_id == sample.location_id
        assert control_sample(dataset, sample, config) is control  # seeded by the sample
        gaps[gap] += 1
    assert len(gaps) >= 5  # spread over the months, not always the latest
    latest = EvaluationConfig("tiny-random", ".", "out", control_choice="latest")
    assert all(control_sample(dataset, s, latest) is dataset.previous_sample(s) for s in late)


def test_missing_climate_comes_from_nasa_power(data_settings, tmp_path):
    from core.dataset.reader import read_dataset
    from core.evaluation.run import EvaluationConfig, sample_request
    from core.sources.climate import fetch_month_climate
    from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

    dataset = read_dataset(require_shared(ECOMAPPER_EXAMPLE) / "Test-Batch")
    sample = next(s for s in dataset.samples if str(s.metadata.month) == "2019-07")
    assert sample.metadata.climate is None  # the test batch stores no climate
    climate = fetch_month_climate(sample.metadata.point, sample.metadata.month, data_settings)
    # the recorded NASA POWER answer for July 2019 (T2M 23.06 C, PRECTOTCORR 4.24 mm/day)
    assert climate.temp_c == pytest.approx(23.06) and climate.precip_mm_day == pytest.approx(4.24)
    filled = EvaluationConfig("tiny-random", tmp_path, tmp_path / "out", fill_missing_climate=True, size_px=64)
    request = sample_request(sample, None, 7, filled, data_settings)
    assert request.climate == climate and request.seed == 7 and request.mode == "text"
    assert "23 C" in request.prompts().climate  # the climate prompt carries POWER's values
    as_stored = EvaluationConfig("tiny-random", tmp_path, tmp_path / "out", size_px=64)
    assert sample_request(sample, None, 7, as_stored, data_settings).climate is None


@pytest.mark.slow
def test_evaluation_generates_with_the_chosen_caption_preset(tmp_path, settings):
    from core.evaluation.run import EvaluationConfig, PipelineGenerator, evaluate
    from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

    config = EvaluationConfig(
        "tiny-random",
        require_shared(ECOMAPPER_EXAMPLE) / "Test-Batch",
        tmp_path / "out",
        limit=1,
        size_px=64,
        num_inference_steps=2,
        metrics=("ssim", "psnr"),
        caption_preset="fixed_caption_diffsat",
    )
    cpu = settings.with_(device="cpu")
    generator = PipelineGenerator(config, cpu)
    report = evaluate(config, cpu, generator=generator)
    assert report.generated == 1
    spatial_prompts = {key[0] for key in generator.engine._embeddings if key[0]}
    # DiffusionSat's fixed caption: no cloud words, no date, the country only, no climate
    assert spatial_prompts == {"a satellite image of Woody Savannas in Ethiopia."}
    with pytest.raises(BadRequestError):
        EvaluationConfig("tiny-random", ".", "out", caption_preset="fixed")
