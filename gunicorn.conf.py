import os

# One worker: the store lives in the worker's memory (see gateway/server.py). A greenlet per
# connection, so live ?watch=true streams and slow clients hold no thread.
bind = "127.0.0.1:8080"
workers = 1
worker_class = "gateway.server.GreenletWorker"  # gevent; "gateway.server.HeadFirstWorker" with threads = 16 for gthread
worker_connections = 2048  # the streams (--max-subscribers, 1000) and room for requests
# The head and body time limits (KUBEVIRT_GATEWAY_CLIENT_TIMEOUT) and the cap on connections per
# address (KUBEVIRT_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS) are the gateway's settings: the worker
# reads them from the app wsgi.py built.
accesslog = "-"
timeout = 60
# No control socket (gunicornc, gunicorn 24+; older ones ignore the name): in the pod the root file system
# is read-only, and Kubernetes, not a socket, restarts and scales the process.
control_socket_disable = True
# A header spelled with underscores (X-Remote_User, which the API server passes on as a client's own)
# would reach the app as X-Remote-User: dropped, whatever gunicorn's default becomes.
header_map = "drop"
# HTTPS, the aggregated API server mode (deploy/overlays/aggregated): the certificate and key are the
# gateway's settings; the worker adds the front proxy's CA from the app it serves (gateway/server.py).
certfile = os.environ.get("KUBEVIRT_GATEWAY_TLS_CERT_FILE")
keyfile = os.environ.get("KUBEVIRT_GATEWAY_TLS_PRIVATE_KEY_FILE")
