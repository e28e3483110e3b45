"""Aggregation of run metrics into tables (collect, tables) and the paper's figures (plots)."""
