"""Data sources: NASA POWER climate, STAC search, COG reads, Sentinel-2 imagery, land cover, places."""
