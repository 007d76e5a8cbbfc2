"""Stage 4, aggregate: the unprotected cells of every table of the catalog."""
