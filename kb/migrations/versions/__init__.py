"""One revision per file, named NNNN_what.py; alembic reads them in the order their down_revision gives."""
