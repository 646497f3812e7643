"""One module per `python -m core` command (see core/cli.py for the module contract)."""
