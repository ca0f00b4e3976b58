"""WSGI entry point for gunicorn, configured from KUBEVIRT_GATEWAY_* variables.

KUBEVIRT_GATEWAY_MANIFESTS=./cluster gunicorn -c gunicorn.conf.py wsgi:app
"""

from gateway.app import create_app
from gateway.config import from_env

app = create_app(from_env())
