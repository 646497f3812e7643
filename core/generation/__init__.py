"""The generation engine's side of a request: the one request model, prompts and the runs that make images."""
