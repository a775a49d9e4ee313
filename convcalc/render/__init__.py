"""Renderers: turn engine results into text. They compute nothing themselves."""
