"""Load a recipe: fill every control from it, so the chained Generate makes the same image again."""

from __future__ import annotations

from app.errors import shown_errors
from app.handlers import bridge
from core.errors import BadRequestError


class RecipeHandlers:
    """Mixed into `Handlers`."""

    @shown_errors
    def load_recipe(self, path: str | None) -> tuple:
        """The values of the `/generate` parameters (in `GenerateForm.FIELDS` order), then the preset.

        Numbers come back at their display precision (a recipe's 1.0779999999999998 shows as 1.08).
        """
        if not path:
            raise BadRequestError("No recipe file was given.", "Upload a *.recipe.json written by this app.")
        recipe = bridge.read_recipe(path)
        return (*recipe.values(), self.preset_label_for(recipe["temp_delta_c"], recipe["precip_pct"]))
