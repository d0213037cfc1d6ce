"""Run layer: plan a run, execute the notebooks per team, publish the reports; the command line."""
