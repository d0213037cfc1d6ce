"""One module per workbook notebook: what each notebook shows, cell by cell (being split into core + presentation)."""
