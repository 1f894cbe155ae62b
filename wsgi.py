"""WSGI entry point for gunicorn: `gunicorn -c python:walletcards.gunicorn_config wsgi:app`."""

from walletcards import create_app, logs
from walletcards.settings import Settings

settings = Settings.from_env()
logs.configure(settings.log_level, settings.log_format)
app = create_app(settings)
