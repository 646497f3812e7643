"""Start the EcoMapper Studio app: python app.py [--host 127.0.0.1] [--port 7860] [--model ID] (see app/__main__.py)."""

from app.__main__ import main

if __name__ == "__main__":
    main()
