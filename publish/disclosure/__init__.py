"""Stage 5, disclosure control: the policy, cell rules, the strict suppression across
linked tables, and the audit that proves what an attacker can learn."""
