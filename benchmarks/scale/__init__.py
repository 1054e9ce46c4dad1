"""`make scale`: the registry at national scale on PostgreSQL (see __main__.py)."""
