"""What leaves the product: PNG / GeoTIFF / recipe files, provenance, labels and time-lapse files."""
