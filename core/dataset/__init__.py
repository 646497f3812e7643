"""The EcoMapper dataset: reading it and building it from the data sources."""
