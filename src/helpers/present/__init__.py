"""Presentation: the text catalog, formatting, tables, charts, the report template and the index page."""
