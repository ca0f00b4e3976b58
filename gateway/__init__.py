"""kubevirt-gateway: one HTTP call returns a KubeVirt VM and what it depends on.

The app factory is `gateway.app.create_app`; this package imports nothing at import
time, so the pure core (catalog, follow) can be used without Flask.
"""

from importlib.metadata import version

__version__ = version("kubevirt-gateway")  # pyproject.toml is the one place it is written
