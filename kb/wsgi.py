"""The WSGI entry point for gunicorn: `gunicorn kb.wsgi:app`."""
from . import create_app

app = create_app()
