"""A demo organization with made-up content and engagement, for a first look."""
