"""Climate values, scenarios (a hand-set change or a CMIP6 projection) and applying them."""
