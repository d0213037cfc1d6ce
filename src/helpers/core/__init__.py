"""Calculation core: targets, weights, attainment, scores, pay and strategy trees — numbers in, numbers out."""
