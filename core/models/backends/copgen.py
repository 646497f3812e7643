"""COP-GEN as a backend: Sentinel-2 L2A B04/B03/B02/B08 (hence NDVI) from land cover, lat/lon and date.

COP-GEN (Apache-2.0 code, CC-BY-4.0 weights: Hub mespinosami/copgen-base and mespinosami/copgen-vaes)
denoises every modality's latent jointly with one U-ViT (`copgen_uvit.CopGenUViT`). Here the land
cover (mapped from the request's IGBP class to COP-GEN's ESRI classes), the point and the date are
fed clean at timestep 0, as the original conditions; every other modality is generated with them
(the network reads all 834 tokens either way), and the S2 L2A RGB+NIR latent is decoded by its own
KL autoencoder (a stock diffusers `AutoencoderKL`). Sampling: DPM-Solver++ on SD's scaled-linear
1000-step schedule, noise prediction, 50 steps; the network's timestep is the schedule index + 1
(the original's discrete-time convention). A cloud-free request also conditions on a clear cloud mask.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import Settings
from core.errors import ModelUnavailableError
from core.models.backends.base import Bands, ProgressCallback
from core.models.backends.sd_common import Drawn, SDPipelineBackend, device_and_dtype

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest
    from core.models.backends.registry import BackendInfo


@dataclass(frozen=True)
class Modality:
    """One modality as COP-GEN sees it.

    Attributes:
        name: the original's key (e.g. "S2L2A_B02_B03_B04_B08").
        kind: "image" (an autoencoder latent) or "scalar" (a 3-vector: lat/lon or date).
        img_bands: channels in pixel space (one-hot classes for LULC and the cloud mask).
        img_px: pixel size of the tile (192 px at 10 m for S2 B04/B03/B02/B08).
        latent_channels, latent_px: the latent the network reads (scalars: 1 channel, 1 x 3).
        scale_factor: latent scaling of the modality's autoencoder.
        bands: band names in channel order (pixel space).
    """

    name: str
    kind: str
    img_bands: int
    img_px: int
    latent_channels: int
    latent_px: int
    scale_factor: float = 1.0
    bands: tuple[str, ...] = ()

    @property
    def patch(self) -> int:
        return 2 if self.kind == "image" else 1

    @property
    def num_tokens(self) -> int:
        return (self.latent_px // self.patch) ** 2 if self.kind == "image" else 3

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return (self.latent_channels, self.latent_px, self.latent_px) if self.kind == "image" else (1, 1, 3)


LAT_LON = "3d_cartesian_lat_lon"
TIMESTAMP = "mean_timestamps"
LULC = "LULC_LULC"
CLOUD_MASK = "S2L1C_cloud_mask"
S2L2A_RGBN = "S2L2A_B02_B03_B04_B08"
S2_BANDS = ("B04", "B03", "B02", "B08")  # channel order of S2L2A_B02_B03_B04_B08 (its config's `bands`)
S2_M_PER_PX = 10.0
# configs/copgen/discrete/cop_gen_base.py (fixture hub-configs/miquel-espinosa--COP-GEN): name, kind, pixel
# bands, pixel size, latent channels, latent size, scale factor. The tuple is in the config's sorted key order.
_BASE_TABLE = (
    (LAT_LON, "scalar", 1, 3, 1, 3, 1.0),
    ("DEM_DEM", "image", 1, 64, 8, 8, 0.404247),
    (LULC, "image", 10, 192, 8, 24, 0.464794),
    ("S1RTC_vh_vv", "image", 2, 192, 8, 24, 0.633804),
    ("S2L1C_B01_B09_B10", "image", 3, 32, 8, 4, 0.565812),
    ("S2L1C_B02_B03_B04_B08", "image", 4, 192, 8, 24, 0.772514),
    ("S2L1C_B05_B06_B07_B11_B12_B8A", "image", 6, 96, 8, 12, 0.765817),
    (CLOUD_MASK, "image", 4, 192, 8, 24, 0.557045),
    ("S2L2A_B01_B09", "image", 2, 32, 8, 4, 0.571367),
    (S2L2A_RGBN, "image", 4, 192, 8, 24, 0.853416),
    ("S2L2A_B05_B06_B07_B11_B12_B8A", "image", 6, 96, 8, 12, 0.567267),
    (TIMESTAMP, "scalar", 1, 3, 1, 3, 1.0),
)
COPGEN_BASE_MODALITIES = tuple(
    Modality(name, kind, bands, px, ch, lpx, scale, S2_BANDS if name == S2L2A_RGBN else ())
    for name, kind, bands, px, ch, lpx, scale in _BASE_TABLE
)
COPGEN_BASE_NET = dict(embed_dim=1024, depth=20, num_heads=16, mlp_ratio=4.0, qkv_bias=False)
# Tiny variant: the modalities it reads and writes at 32 px (latent 4 x 4), a 2-block U-ViT 32 wide.
_TINY_NAMES = (LAT_LON, LULC, CLOUD_MASK, S2L2A_RGBN, TIMESTAMP)
TINY_MODALITIES = tuple(
    Modality(m.name, m.kind, m.img_bands, 32 if m.kind == "image" else 3, 4 if m.kind == "image" else 1,
             4 if m.kind == "image" else 3, m.scale_factor, m.bands)
    for m in COPGEN_BASE_MODALITIES if m.name in _TINY_NAMES
)  # fmt: skip
TINY_NET = dict(embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, qkv_bias=False)

# ESRI 10 m land cover (COP-GEN's LULC): raster value -> one-hot index, as the original's preprocessing.
ESRI_VALUE_TO_INDEX = {0: 0, 1: 1, 2: 2, 4: 3, 5: 4, 7: 5, 8: 6, 9: 7, 10: 8, 11: 9}
# EcoMapper's IGBP classes -> ESRI classes (2 trees, 4 flooded vegetation, 5 crops, 7 built area, 8 bare
# ground, 11 rangeland). Savannas (10-30 % trees) and shrublands read as rangeland, woody savannas as trees.
IGBP_TO_ESRI = {
    "Evergreen Needleleaf Forests": 2,
    "Evergreen Broadleaf Forests": 2,
    "Deciduous Needleleaf Forests": 2,
    "Deciduous Broadleaf Forests": 2,
    "Mixed Forests": 2,
    "Closed Shrublands": 11,
    "Open Shrublands": 11,
    "Woody Savannas": 2,
    "Savannas": 11,
    "Grasslands": 11,
    "Permanent Wetlands": 4,
    "Croplands": 5,
    "Urban and Built-up Lands": 7,
    "Cropland/Natural Vegetation Mosaics": 5,
    "Barren or Sparsely Vegetated": 8,
}
CLOUD_CLASSES = 4  # clear, thick, thin, shadow; index 0 = clear
# Reflectance shown as full white in the RGB preview (a common true-colour stretch of L2A reflectance).
PREVIEW_MAX_REFLECTANCE = 0.3
DATE_YEARS = (1950, 2050)
SCHEDULE = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000)


def encode_lat_lon(lat: float, lon: float) -> np.ndarray:
    """The point as a unit vector (x, y, z), COP-GEN's "3d_cartesian_lat_lon"."""
    lat_r, lon_r = math.radians(lat), math.radians(lon)
    return np.array([math.cos(lat_r) * math.cos(lon_r), math.cos(lat_r) * math.sin(lon_r), math.sin(lat_r)], np.float32)


def encode_date(day: date) -> np.ndarray:
    """(sin, cos) of the day of the year and the year mapped from 1950..2050 to -1..1 (COP-GEN's timestamp)."""
    days = 366 if day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0) else 365
    angle = 2 * math.pi * day.timetuple().tm_yday / days
    low, high = DATE_YEARS
    return np.array([math.sin(angle), math.cos(angle), 2 * (day.year - low) / (high - low) - 1], np.float32)


def one_hot_tile(index: int, classes: int, size_px: int) -> np.ndarray:
    """A tile of one class, one-hot, mapped to -1..1 as COP-GEN's preprocessing does (classes x H x W)."""
    tile = np.full((classes, size_px, size_px), -1.0, np.float32)
    tile[index] = 1.0
    return tile


def request_date(request: GenerationRequest) -> date:
    """The request's month on its day (clamped to the month's length)."""
    import calendar

    last = calendar.monthrange(request.month.year, request.month.month)[1]
    return date(request.month.year, request.month.month, min(request.day, last))


@dataclass
class CopGenParts:
    """What a COP-GEN run needs: the network, the autoencoders by modality, the scheduler."""

    nnet: Any
    autoencoders: dict[str, Any]
    scheduler: Any
    modalities: tuple[Modality, ...]
    device: Any = "cpu"
    dtype: Any = None


class CopGenBackend(SDPipelineBackend):
    """COP-GEN: Sentinel-2 L2A B04 B03 B02 B08 from land cover, point and date (no text, no climate)."""

    def conditions(self, request: GenerationRequest, generator) -> dict[str, Any]:
        """Clean latents of the conditioning modalities (land cover map, point, date, clear cloud mask)."""
        import torch

        parts: CopGenParts = self.pipe
        by_name = {m.name: m for m in parts.modalities}
        esri = IGBP_TO_ESRI[request.land_cover]
        pixels = {LULC: one_hot_tile(ESRI_VALUE_TO_INDEX[esri], len(ESRI_VALUE_TO_INDEX), by_name[LULC].img_px)}
        if request.cloud_fraction == 0.0:
            pixels[CLOUD_MASK] = one_hot_tile(0, CLOUD_CLASSES, by_name[CLOUD_MASK].img_px)
        latents = {
            LAT_LON: torch.from_numpy(encode_lat_lon(request.point.lat, request.point.lon)).reshape(1, 1, 1, 3),
            TIMESTAMP: torch.from_numpy(encode_date(request_date(request))).reshape(1, 1, 1, 3),
        }
        for name, tile in pixels.items():
            vae = parts.autoencoders[name]
            moments = vae.encode(torch.from_numpy(tile)[None].to(parts.device, vae.dtype)).latent_dist
            latents[name] = moments.sample(generator=generator).float().cpu() * by_name[name].scale_factor
        return latents

    def denoise(self, request: GenerationRequest, progress, cancel, source=None) -> dict[str, Any]:
        """Every non-condition latent denoised jointly from seeded noise (the conditions stay clean at t = 0).

        With `source` (img2img: the real S2 L2A latent) only that latent is redrawn: it is noised to the
        request's strength and denoised from there; the other generated modalities are marginalised
        (pure noise at the last timestep, as any-to-any models leave out what is not asked for).
        """
        import torch

        from core.models.backends.base import step_callback

        parts: CopGenParts = self.pipe
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        fixed = self.conditions(request, generator)
        free = [m for m in parts.modalities if m.name not in fixed]
        scheduler = parts.scheduler
        scheduler.set_timesteps(request.num_inference_steps or self.info.default_steps)
        timesteps, marginal = scheduler.timesteps, set()
        if source is None:
            noisy = {m.name: torch.randn((1, *m.latent_shape), generator=generator) for m in free}
        else:
            begin = img2img_begin(len(timesteps), request.strength)
            timesteps = timesteps[begin:]
            scheduler.set_begin_index(begin)
            for m in free:
                if m.name != S2L2A_RGBN:
                    fixed[m.name] = torch.randn((1, *m.latent_shape), generator=generator)
                    marginal.add(m.name)
            free = [m for m in free if m.name == S2L2A_RGBN]
            noise = torch.randn(source.shape, generator=generator)
            noisy = {S2L2A_RGBN: scheduler.add_noise(source, noise, timesteps[:1])}
        report = step_callback(progress, cancel, len(timesteps), self.backend_id)
        joint = torch.cat([z.flatten(1) for z in noisy.values()], dim=1)
        with self._lock, torch.inference_mode():
            for index, t in enumerate(timesteps):
                eps = self._predict(parts, fixed, free, joint, int(t) + 1, marginal)
                joint = scheduler.step(eps, t, joint).prev_sample
                report(None, index, t, {})
        return {**fixed, **self._split(free, joint)}

    def encode_source(self, tile: dict[str, np.ndarray], seed: int):
        """Real reflectance bands (0..1, COP-GEN's channel order) as a scaled S2 L2A latent."""
        import torch

        parts: CopGenParts = self.pipe
        modality = next(m for m in parts.modalities if m.name == S2L2A_RGBN)
        vae = parts.autoencoders[S2L2A_RGBN]
        pixels = np.stack([tile[b] for b in modality.bands]).clip(0.0, 1.0) * 2.0 - 1.0  # decode_bands' inverse
        generator = torch.Generator(device="cpu").manual_seed(seed)
        with torch.inference_mode():
            moments = vae.encode(torch.from_numpy(pixels.astype(np.float32))[None].to(parts.device, vae.dtype))
            latent = moments.latent_dist.sample(generator=generator).float().cpu()
        return latent * modality.scale_factor

    @staticmethod
    def _split(free: list[Modality], joint) -> dict[str, Any]:
        sizes = [math.prod(m.latent_shape) for m in free]
        return {m.name: z.reshape(1, *m.latent_shape) for m, z in zip(free, joint.split(sizes, dim=1), strict=True)}

    def _predict(self, parts: CopGenParts, fixed: dict, free: list[Modality], joint, timestep: int, marginal=()):
        """The network's noise prediction for the free modalities (conditions at 0, marginalised ones at the last)."""
        import torch

        current = {**fixed, **self._split(free, joint)}
        latents = [current[m.name].to(parts.device, parts.dtype) for m in parts.modalities]
        last = parts.scheduler.config.num_train_timesteps

        def time_of(name: str) -> int:
            return last if name in marginal else 0 if name in fixed else timestep

        times = [torch.tensor([time_of(m.name)], device=parts.device) for m in parts.modalities]
        out = dict(zip([m.name for m in parts.modalities], parts.nnet(latents, times), strict=True))
        return torch.cat([out[m.name].float().cpu().flatten(1) for m in free], dim=1)

    def decode_bands(self, latent) -> dict[str, np.ndarray]:
        """The S2 L2A latent as reflectance bands (decoder output in -1..1 -> DN / 10000)."""
        import torch

        parts: CopGenParts = self.pipe
        modality = next(m for m in parts.modalities if m.name == S2L2A_RGBN)
        vae = parts.autoencoders[S2L2A_RGBN]
        with torch.inference_mode():
            pixels = vae.decode(latent.to(parts.device, vae.dtype) / modality.scale_factor).sample[0]
        reflectance = ((pixels.float().cpu().numpy() + 1.0) / 2.0).clip(0.0, 1.0).astype(np.float32)
        return dict(zip(modality.bands, reflectance, strict=True))

    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        source = self.source_tile(request) if request.mode == "img2img" else None
        steps = request.num_inference_steps or self.info.default_steps
        kept = source is not None and img2img_begin(steps, request.strength) == steps
        if kept:
            arrays = source  # strength 0 redraws nothing: the real bands as read
        else:
            start = self.encode_source(source, request.seed) if source is not None else None
            arrays = self.decode_bands(self.denoise(request, progress, cancel, start)[S2L2A_RGBN])
        rgb = np.stack([arrays[b] for b in ("B04", "B03", "B02")], axis=-1) / PREVIEW_MAX_REFLECTANCE
        image = (np.clip(rgb, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        bands = Bands(arrays, S2_M_PER_PX)
        conditioning = {
            "land_cover_esri": IGBP_TO_ESRI[request.land_cover],
            "lat_lon_xyz": [round(float(v), 6) for v in encode_lat_lon(request.point.lat, request.point.lon)],
            "date": request_date(request).isoformat(),
            "clear_cloud_mask": request.cloud_fraction == 0.0,
            "bands": list(arrays),
            "preview": f"B04/B03/B02 reflectance 0..{PREVIEW_MAX_REFLECTANCE:g} as 0..255",
        }
        warnings = (
            f"COP-GEN draws {bands.size_px} px at {S2_M_PER_PX:g} m ({bands.size_px * S2_M_PER_PX / 1000:g} km), "
            f"not the 5.12 km footprint at {request.size_px} px.",
        )
        if source is not None:
            scene = request.source_bands
            conditioning["source_scene"] = {**scene.to_metadata(), "strength": request.strength,
                                            "tile": f"central {bands.size_px} px of the footprint"}  # fmt: skip
            what = "kept as read (no step runs at this strength)" if kept else (
                f"redrawn at strength {request.strength:g} for {request_date(request)}")  # fmt: skip
            warnings += (f"Started from the real scene {scene.scene_id} of {scene.acquired.date()} (B04 B03 B02 B08, "
                         f"central {bands.size_px} px) {what}.",)  # fmt: skip
        return Drawn(image, "", conditioning, warnings=warnings, bands=bands)

    def source_tile(self, request: GenerationRequest) -> dict[str, np.ndarray]:
        """The central COP-GEN tile of the request's real bands, at their own 10 m (img2img's start)."""
        from core.errors import BadRequestError

        scene = request.source_bands
        modality = next(m for m in self.pipe.modalities if m.name == S2L2A_RGBN)
        px = modality.img_px
        if scene is None or set(modality.bands) - set(scene.arrays):
            raise BadRequestError(
                "COP-GEN img2img needs the real scene's B04, B03, B02 and B08 reflectance.",
                "Run it through core.services.generate, which reads them for the request's month.",
            )
        size = next(iter(scene.arrays.values())).shape[0]
        if abs(scene.m_per_px - S2_M_PER_PX) > 1e-6 or size < px:
            raise BadRequestError(
                f"COP-GEN img2img needs {px} px of {S2_M_PER_PX:g} m bands; got {size} px of {scene.m_per_px:g} m.",
                "Read the bands at the footprint's 512 px (10 m).",
            )
        top = (size - px) // 2
        return {b: np.ascontiguousarray(scene.arrays[b][top : top + px, top : top + px]) for b in modality.bands}


def img2img_begin(steps: int, strength: float) -> int:
    """Index of the first timestep img2img runs (diffusers' convention: the last `int(steps * strength)` run)."""
    return steps - min(steps, int(steps * strength))


def build_copgen_scheduler():
    """DPM-Solver++ (order 2, multistep) on SD's scaled-linear schedule, noise prediction."""
    from diffusers import DPMSolverMultistepScheduler

    return DPMSolverMultistepScheduler(**SCHEDULE, algorithm_type="dpmsolver++", solver_order=2,
                                       prediction_type="epsilon")  # fmt: skip


def autoencoder_config(modality: Modality, block_out_channels=(128, 256, 512, 512), norm_num_groups: int = 32):
    """A stock diffusers AutoencoderKL config for one modality (LDM ddconfig: ch 128, mult 1,2,4,4, 2 res blocks)."""
    levels = len(block_out_channels)
    return dict(
        in_channels=modality.img_bands,
        out_channels=modality.img_bands,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=tuple(block_out_channels),
        layers_per_block=2,
        latent_channels=modality.latent_channels,
        norm_num_groups=norm_num_groups,
        sample_size=modality.img_px,
        scaling_factor=modality.scale_factor,
    )


def build_tiny_copgen_parts(seed: int = 0) -> CopGenParts:
    """A tiny random COP-GEN (noise): 5 modalities at 32 px, the real classes at toy size."""
    import torch
    from diffusers import AutoencoderKL

    from core.models.backends.copgen_uvit import CopGenUViT

    torch.manual_seed(seed)
    nnet = CopGenUViT(TINY_MODALITIES, **TINY_NET).eval()
    autoencoders = {}
    for modality in TINY_MODALITIES:
        if modality.kind == "image":
            config = autoencoder_config(modality, block_out_channels=(8, 8, 8, 8), norm_num_groups=4)
            autoencoders[modality.name] = AutoencoderKL(**{**config, "layers_per_block": 1}).eval()
    return CopGenParts(nnet, autoencoders, build_copgen_scheduler(), TINY_MODALITIES, dtype=torch.float32)


def copgen_files(folder: Path) -> tuple[Path | None, dict[str, Path]]:
    """(network state dict, {modality: autoencoder state dict}) found in a COP-GEN checkpoint folder.

    Layout: `*nnet_ema.pth` (mespinosami/copgen-base) and `vae/<modality>/*.pth` or `<modality>*/…pth`
    from mespinosami/copgen-vaes; only the modalities a run reads need their autoencoder.
    """
    nets = sorted(folder.glob("*nnet_ema.pth")) if folder.is_dir() else []
    vaes: dict[str, Path] = {}
    for name in (LULC, CLOUD_MASK, S2L2A_RGBN):
        found = sorted(folder.glob(f"**/{name}*/*.pth")) + sorted(folder.glob(f"**/{_vae_folder(name)}*/*.pth"))
        if found:
            vaes[name] = found[-1]
    return (nets[-1] if nets else None), vaes


def _vae_folder(name: str) -> str:
    """The original's autoencoder folder name for a modality (e.g. S2L2A_192x192_B4_3_2_8_latent_8)."""
    return {
        LULC: "LULC_192x192_LULC",
        CLOUD_MASK: "S2L1C_192x192_cloud_mask",
        S2L2A_RGBN: "S2L2A_192x192_B4_3_2_8",
    }[name]


def load_ldm_autoencoder(path: Path, modality: Modality, dtype=None, **config_changes):
    """One of COP-GEN's LDM-format KL autoencoders as a diffusers AutoencoderKL (keys converted, loaded strictly).

    `config_changes` override the published architecture (tests use narrower blocks).
    """
    import torch
    from diffusers import AutoencoderKL
    from diffusers.loaders.single_file_utils import convert_ldm_vae_checkpoint

    state = torch.load(path, map_location="cpu", weights_only=True)
    vae = AutoencoderKL(**{**autoencoder_config(modality), **config_changes})
    converted = convert_ldm_vae_checkpoint(state, vae.config)
    try:
        missing, unexpected = vae.load_state_dict(converted, strict=False)
    except RuntimeError as err:  # mis-shaped tensors
        raise ModelUnavailableError(
            f"The autoencoder {path} does not fit {modality.name}: {str(err).splitlines()[1].strip()}",
            "Use the file of this modality from mespinosami/copgen-vaes.",
        ) from err
    if missing or unexpected:
        raise ModelUnavailableError(
            f"The autoencoder {path} does not fit {modality.name}: {len(missing)} missing, {len(unexpected)} "
            f"unexpected keys (e.g. {(missing or unexpected)[0]}).",
            "Use the file of this modality from mespinosami/copgen-vaes.",
        )
    return vae.to(dtype=dtype).eval()


def load_copgen(info: BackendInfo, settings: Settings) -> CopGenBackend:
    """COP-GEN from checkpoints/copgen/ (tiny: built in code)."""
    if info.is_tiny:
        return CopGenBackend(info, build_tiny_copgen_parts())
    import torch

    from core.models.backends.copgen_uvit import CopGenUViT

    folder = settings.checkpoints_dir / info.backend_id
    net_file, vae_files = copgen_files(folder)
    missing = [n for n in (LULC, CLOUD_MASK, S2L2A_RGBN) if n not in vae_files]
    if net_file is None or missing:
        what = "nnet_ema.pth" if net_file is None else f"the autoencoders of {', '.join(missing)}"
        raise ModelUnavailableError(f"No COP-GEN {what} in {folder}.", info.how_to_get)
    device, dtype = device_and_dtype(settings)
    nnet = CopGenUViT(COPGEN_BASE_MODALITIES, **COPGEN_BASE_NET)
    try:
        nnet.load_state_dict(torch.load(net_file, map_location="cpu", weights_only=True), strict=True)
    except RuntimeError as err:
        raise ModelUnavailableError(
            f"{net_file} does not fit COP-GEN base: {str(err).splitlines()[0]}", "Use copgen-base's nnet_ema file."
        ) from err
    by_name = {m.name: m for m in COPGEN_BASE_MODALITIES}
    autoencoders = {n: load_ldm_autoencoder(file, by_name[n], dtype).to(device) for n, file in vae_files.items()}
    parts = CopGenParts(nnet.to(device, dtype).eval(), autoencoders, build_copgen_scheduler(), COPGEN_BASE_MODALITIES,
                        device, dtype)  # fmt: skip
    return CopGenBackend(info, parts, origin=str(folder))
