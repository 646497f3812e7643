"""Evaluation of a model over a dataset: the run, its results file, the paper's tables and plots."""
