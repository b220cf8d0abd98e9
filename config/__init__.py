"""Django project for Flight Log: settings, URLs, WSGI entry point and gunicorn config."""
