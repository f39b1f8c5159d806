"""Alembic's script folder for the accounts database: env.py and one file per revision in versions/.

Run through ``kb.migrate`` (``kb db upgrade``, ``kb init``, and each start), never with an alembic.ini.
"""
