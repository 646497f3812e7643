"""The EcoMapper paper's experiments as code: the absolute extreme-climate grid and the future-climate captions."""
