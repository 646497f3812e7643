"""Load a recipe: fill every control from it, so the chained Generate makes the same image again."""

from __future__ import annotations

from typing import Any

from app.errors import shown_errors
from app.forms import SIZE_CHOICES_PX, GenerateForm
from app.handlers import requests
from app.handlers.scenario import preset_label_for
from core.errors import BadRequestError

# The `/load_recipe` endpoint's outputs: the `/generate` parameters, then the preset they are.
RECIPE_OUTPUTS = (*GenerateForm.FIELDS, "preset")


@shown_errors
def load_recipe(path: str | None) -> dict[str, Any]:
    """The values of the `/generate` parameters (in `GenerateForm.FIELDS` order), then the preset.

    Numbers come back at their display precision (a recipe's 1.0779999999999998 shows as 1.08).
    """
    if not path:
        raise BadRequestError("No recipe file was given.", "Upload a *.recipe.json written by this app.")
    values = requests.recipe_values(path)
    if values["size_px"] not in SIZE_CHOICES_PX:
        # the size picker cannot show it (Gradio refused the value without saying which)
        raise BadRequestError(
            f"The recipe was made at {values['size_px']} px; the app generates at "
            f"{' or '.join(map(str, SIZE_CHOICES_PX))} px.",
            "Regenerate it exactly with: python -m core generate --recipe FILE --out OUT.png",
        )
    return {**values, "preset": preset_label_for(values["temp_delta_c"], values["precip_pct"])}
