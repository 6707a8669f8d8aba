"""Showcase: the public home page, showcase videos and trial images, and their admin pages."""
