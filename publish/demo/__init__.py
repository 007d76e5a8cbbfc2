"""Synthetic submissions for the demo build and the tests."""
