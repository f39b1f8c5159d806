"""The WSGI entry point for gunicorn: `gunicorn kb.wsgi:app`; each worker warms its pages before serving."""
from . import create_app
from .web.warmup import warm

app = create_app()
warm(app)
