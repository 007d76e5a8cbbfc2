"""Stage 6, render: what readers see, from the protected publication only (tidy CSV and
datapackage, workbook and its ODS copy, HTML site and its charts, public manifest)."""
