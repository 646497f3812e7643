"""Every component of the page in one typed structure, each under one page-wide name.

A component's name is its field name in its area (`lat`, `temp_delta_c`, `grid_file`, ...). Those
names are the public parameter names of the endpoints and the field names of what the handlers
return, so an event is wired by naming components, never by counting positions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from app.layout.change_area import ChangeTab, EditOptionsArea
from app.layout.generate_area import GenerateArea
from app.layout.generators_area import GeneratorsTab
from app.layout.grid_area import GridTab
from app.layout.map_area import MapArea
from app.layout.models_area import ModelsTab
from app.layout.observed_area import ClimateTab, ObservedArea
from app.layout.projection_area import ProjectionTab
from app.layout.region_area import RegionTab
from app.layout.results_area import ExportsTab, ResultsTabs
from app.layout.settings_area import SettingsTab
from app.layout.timelapse_area import TimelapseTab


@dataclass(frozen=True)
class Components:
    """The page's areas; `components["lat"]` finds a component by its page-wide name."""

    map: MapArea
    observed: ObservedArea
    scenario: GenerateArea
    results: ResultsTabs
    climate: ClimateTab
    projection: ProjectionTab
    timelapse: TimelapseTab
    grid: GridTab
    region: RegionTab
    models: ModelsTab
    exports: ExportsTab
    settings: SettingsTab
    edit: EditOptionsArea  # issue 20: modes Edit / Invert's options
    change: ChangeTab  # issue 20: N seeds, the change and how sure it is
    generators: GeneratorsTab  # issue 22: one generator with its box layout / NDVI, what each ignores, licences
    by_name: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Any] = {}
        for area_field in fields(self):
            if area_field.name == "by_name":
                continue
            area = getattr(self, area_field.name)
            for widget in fields(area):
                if widget.name in by_name:
                    raise ValueError(f"Two components are named {widget.name!r}: names must be unique on the page.")
                by_name[widget.name] = getattr(area, widget.name)
        object.__setattr__(self, "by_name", by_name)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"No component is named {name!r}.") from None

    def pick(self, names: Iterable[str]) -> list[Any]:
        """The components of `names`, in that order."""
        return [self[name] for name in names]
