"""A database backend: Django's PostgreSQL one, starting the embedded server on first use."""
