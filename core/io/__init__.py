"""Files, HTTP and caches: atomic writes, the one HTTP client, the on-disk cache, user images, output paths."""
