FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only SECRETS_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1yZWFsLWtleS0wMDAwMDA= \
    DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput
EXPOSE 8000
# Settings in gunicorn.conf.py (bind, workers, multiprocess metrics).
CMD ["gunicorn", "salesbrain.wsgi"]
