FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The app runs as an unprivileged user that cannot change its own code or the image; it
# writes only to the media volume (and its home, where gunicorn keeps its control socket).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin crm
COPY pyproject.toml constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt . && rm -rf build
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown crm:crm /app/media
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
