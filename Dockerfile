FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md wsgi.py gunicorn.conf.py ./
COPY gateway ./gateway
COPY schemas ./schemas
# the uid and gid deploy/base/deployment.yaml runs as; no home: the pod's root file system is read-only
RUN pip install --no-cache-dir . && groupadd --gid 10001 gateway \
    && useradd --uid 10001 --gid 10001 --no-create-home gateway
USER 10001:10001
ENV PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8080", "wsgi:app"]
