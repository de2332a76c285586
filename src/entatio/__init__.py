"""Entatio: an open engagement platform for knowledge transfer."""
