FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md wsgi.py gunicorn.conf.py ./
COPY gateway ./gateway
COPY schemas ./schemas
RUN pip install --no-cache-dir . && useradd --uid 10001 gateway
USER 10001
ENV PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8080", "wsgi:app"]
