"""The record store: each file's derived share of the tables kept between builds."""
