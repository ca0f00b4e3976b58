"""A Kubernetes API server emulator the tests start on 127.0.0.1 (see server.py)."""
