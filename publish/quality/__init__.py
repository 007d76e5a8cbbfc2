"""The data-quality report: aggregate figures about the submissions themselves."""
