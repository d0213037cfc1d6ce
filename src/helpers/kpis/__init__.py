"""KPI layer: every KPI actual per manager and period (pandas and DuckDB engines) and the indicator library."""
