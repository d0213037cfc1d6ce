"""kpi-workbook helpers: the tested calculations behind the notebooks.

Flow (one direction): params → data (load + validate) → KPI actuals → targets and
weights → scores and pay → report.
"""

__version__ = "0.1.0"
