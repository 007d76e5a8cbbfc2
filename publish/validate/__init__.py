"""Stage 2, validate: the DIDS record rules, what became of every record, resubmissions
resolved into what counts, and the restricted folder (quarantine, warnings, manifest)."""
