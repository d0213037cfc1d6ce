"""Text shared by the notebook descriptions."""

PARAMS = '''
# Parameters (papermill overrides these; the defaults run on the demo data)
params_file = "../params/demo.yaml"
team = "east-1"
period = ""       # empty: the period in the params file (e.g. 2026Q3 or 2026-09)
language = ""     # empty: the language in the params file (zh | en)
workspace = ""    # set by the runner: data prepared once per run; empty: computed here
output_dir = ""   # set by the runner: where this report's CSV files go; empty: not written
'''
