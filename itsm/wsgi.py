"""The WSGI entry point for gunicorn: `gunicorn itsm.wsgi:app`."""

from itsm.app import create_app

app = create_app()
