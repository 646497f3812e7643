"""Content credentials: a C2PA manifest (c2pa-python) holding the recipe, signed with the operator's key.

Every exported generated image gets one when a certificate chain and key are configured
(`ECOMAPPER_C2PA_CERT`, `ECOMAPPER_C2PA_KEY`, PEM files); without them, or without c2pa-python, the
export says in its result why it carries none (C2PA manifests are signed by design: c2pa-rs embeds
no unsigned manifest). `read_credentials` is what `python -m core verify` prints.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import Settings
from core.errors import BadRequestError
from core.io.files import temporary_sibling

log = logging.getLogger(__name__)

RECIPE_ASSERTION = "org.ecomapper.recipe"
# IPTC digital source type of a generated image (what C2PA readers show as "created by AI").
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
FORMATS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
NO_KEY_NOTE = (
    "no content credentials: no signing key configured (set ECOMAPPER_C2PA_CERT and ECOMAPPER_C2PA_KEY to the "
    "PEM certificate chain and private key); the image still carries its AI-generated label and recipe metadata"
)


@dataclass(frozen=True)
class Credentials:
    """What an export did about content credentials: `signed`, and a note that says what or why not."""

    signed: bool
    note: str


def _algorithm(private_key_pem: bytes) -> str:
    """The C2PA signing algorithm that fits the key (ES256/384/512 by curve, Ed25519, PS256 for RSA)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "es256", 384: "es384", 521: "es512"}[key.curve.key_size]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise ValueError(f"a {type(key).__name__} cannot sign C2PA manifests")


def _signer(settings: Settings) -> Any:
    import c2pa

    try:
        chain = Path(settings.c2pa_cert).read_bytes()
        key = Path(settings.c2pa_key).read_bytes()
        alg = _algorithm(key)
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg, chain, key, None))
    except (OSError, ValueError, KeyError, c2pa.C2paError) as err:
        raise BadRequestError(
            f"The C2PA signing key or certificate cannot be used ({err}).",
            "Set ECOMAPPER_C2PA_CERT to a PEM chain (leaf first) and ECOMAPPER_C2PA_KEY to its PEM private key.",
        ) from err


def manifest_for(recipe: dict[str, Any], title: str, mime: str, label: str) -> dict[str, Any]:
    """The manifest: "created by a trained algorithm" (with our name and the label) and the recipe as an assertion."""
    from core import __version__

    request = {k: v for k, v in (recipe.get("request") or {}).items() if k != "control_image_png_base64"}
    return {
        "claim_generator_info": [{"name": "EcoMapper Studio", "version": str(__version__)}],
        "title": title,
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": "EcoMapper Studio"},
                            "description": label,
                        }
                    ]
                },
            },
            # the recipe without its control image (kept in the recipe file and the PNG's metadata)
            {"label": RECIPE_ASSERTION, "data": {**recipe, "request": request}},
        ],
    }


def attach_credentials(path: str | os.PathLike, recipe: dict[str, Any], label: str, settings: Settings) -> Credentials:
    """Sign a C2PA manifest with the recipe into the file at `path` (in place), or say why none was attached."""
    target = Path(path)
    mime = FORMATS.get(target.suffix.lower())
    if not settings.c2pa_cert or not settings.c2pa_key:
        return Credentials(False, NO_KEY_NOTE)
    if mime is None:
        return Credentials(False, f"no content credentials: {target.suffix} files are not signed here")
    try:
        import c2pa
    except ImportError:
        return Credentials(False, "no content credentials: c2pa-python is not installed (pip install c2pa-python)")
    signer = _signer(settings)
    tmp = temporary_sibling(target)
    tmp.unlink()  # c2pa writes the destination itself
    try:
        with c2pa.Builder(manifest_for(recipe, target.name, mime, label)) as builder:
            builder.sign_file(target, tmp, signer)
        os.replace(tmp, target)
    except c2pa.C2paError as err:
        raise BadRequestError(f"Signing {target.name} failed ({err}).", "Check the C2PA key and certificate.") from err
    finally:
        tmp.unlink(missing_ok=True)
        signer.close()
    return Credentials(True, f"content credentials signed (C2PA, {_algorithm(Path(settings.c2pa_key).read_bytes())})")


def read_credentials(path: str | os.PathLike) -> dict[str, Any]:
    """What a file claims: its C2PA manifest (validation state, signer, actions, recipe), or that it has none."""
    target = Path(path)
    if not target.is_file():
        raise BadRequestError(f"{target} is not a file.", "Give the path of an exported image.")
    try:
        import c2pa
    except ImportError as err:
        raise BadRequestError("c2pa-python is not installed.", "pip install c2pa-python") from err
    try:
        reader = c2pa.Reader(target)
    except c2pa.C2paError as err:
        return {"file": str(target), "manifest": False, "why": str(err)}
    with reader:
        active = reader.get_active_manifest() or {}
        results = reader.get_validation_results() or {}
        assertions = {a["label"]: a.get("data") for a in active.get("assertions", [])}
        actions = (assertions.get("c2pa.actions.v2") or assertions.get("c2pa.actions") or {}).get("actions", [])
        failures = [
            f"{item.get('code')}: {item.get('explanation', '')}"
            for item in (results.get("activeManifest") or {}).get("failure", [])
        ]
        return {
            "file": str(target),
            "manifest": True,
            "validation_state": reader.get_validation_state(),
            "failures": failures,
            "signer": active.get("signature_info"),
            "claim_generator": active.get("claim_generator_info"),
            "actions": actions,
            "recipe": assertions.get(RECIPE_ASSERTION),
        }


__all__ = ["Credentials", "attach_credentials", "manifest_for", "read_credentials"]
