"""The 15 EcoMapper land-cover class names (MODIS IGBP without Water and Snow/Ice).

Source: the EcoMapper paper and dataset (`type` field of each sample's JSON), which use the MODIS
MCD12Q1 IGBP legend minus its Water Bodies and Permanent Snow and Ice classes. `core.sources.landcover`
re-exports these; they live in their own tiny module so the prompt builder does not depend on
the land-cover look-up.
"""

from __future__ import annotations

LAND_COVER_CLASSES: tuple[str, ...] = (
    "Evergreen Needleleaf Forests",
    "Evergreen Broadleaf Forests",
    "Deciduous Needleleaf Forests",
    "Deciduous Broadleaf Forests",
    "Mixed Forests",
    "Closed Shrublands",
    "Open Shrublands",
    "Woody Savannas",
    "Savannas",
    "Grasslands",
    "Permanent Wetlands",
    "Croplands",
    "Urban and Built-up Lands",
    "Cropland/Natural Vegetation Mosaics",
    "Barren or Sparsely Vegetated",
)
