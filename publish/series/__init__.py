"""A series of releases (PUBLICATION.md section 7): earlier releases read back, revisions,
the restricted ledger, disclosure across releases, organisation changes, provider issues
for readers and year on year. Empty on purpose: importing `publish.series.facts` (as the
renderers do) imports nothing else of the package."""
