"""What wires bangfu together: settings read once (`settings.py`), the composition root
(`bootstrap.py`), the embedded PostgreSQL (`embedded.py`), secrets (`secrets.py`), logging and
rate limits."""
