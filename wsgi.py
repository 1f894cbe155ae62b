"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from walletcards import create_app

app = create_app()
