FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The exact versions of requirements.lock first (a layer that changes only with the lock), then the project itself.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN pip install --no-cache-dir --no-deps .
# Static files are part of the image (hashed names, compressed): each web container serves its own copy.
RUN DEBUG=0 AWS_MODE=live SECRET_KEY=collectstatic-at-build-only python manage.py collectstatic --noinput \
    && mkdir -p var && useradd --system portal && chown -R portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000"]
