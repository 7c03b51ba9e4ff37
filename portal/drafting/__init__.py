"""Drafting help: scorecards kept as Afterword's own data, and feedback drafted from them."""
