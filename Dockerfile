# the graph page's script (ui/: Cytoscape.js bundled by esbuild, as `make ui` does): package data of gateway.ui
FROM node:20-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ui/.npmrc ./
RUN npm ci --no-audit --no-fund
COPY ui/src ./src
RUN mkdir -p ../gateway/ui && npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md wsgi.py gunicorn.conf.py ./
COPY gateway ./gateway
COPY --from=ui /src/gateway/ui/graph.js ./gateway/ui/graph.js
COPY schemas ./schemas
# the uid and gid deploy/base/deployment.yaml runs as; no home: the pod's root file system is read-only
RUN pip install --no-cache-dir . && groupadd --gid 10001 gateway \
    && useradd --uid 10001 --gid 10001 --no-create-home gateway
USER 10001:10001
ENV PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8080", "wsgi:app"]
