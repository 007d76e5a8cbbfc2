"""Stage 1, ingest: submission files read into DuckDB exactly as received."""
