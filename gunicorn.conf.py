# One worker with threads: the store lives in the worker's memory (see gateway/server.py).
bind = "127.0.0.1:8080"
workers = 1
threads = 16  # each live ?watch=true stream holds one
worker_class = "gateway.server.HeadFirstWorker"  # gthread, reading request heads in its poller
accesslog = "-"
timeout = 60
