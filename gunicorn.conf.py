# One worker: the store lives in the worker's memory (see gateway/server.py). A greenlet per
# connection, so live ?watch=true streams and slow clients hold no thread.
bind = "127.0.0.1:8080"
workers = 1
worker_class = "gateway.server.GreenletWorker"  # gevent; "gateway.server.HeadFirstWorker" with threads = 16 for gthread
worker_connections = 2048  # the streams (--max-subscribers, 1000) and room for requests
accesslog = "-"
timeout = 60
