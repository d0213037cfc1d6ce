"""Plan layer: the run parameters and the methodology files a consultant writes, read and validated."""
