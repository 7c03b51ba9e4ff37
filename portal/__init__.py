"""Afterword: a candidate feedback portal."""
