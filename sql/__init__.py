"""The store's schema (``migrations/NNNN_name.sql``) and named views (``views/*.sql``).

This folder is installed inside the package as ``workbench.sql`` (see ``pyproject.toml``), and
the store reads it with ``importlib.resources``, so an installed wheel migrates exactly as a
checkout does.
"""
