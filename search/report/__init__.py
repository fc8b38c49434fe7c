"""The Markdown report (`search.report.markdown`) and plots (`search.report.plots`) of a run.

Drawn from `search.analysis` data objects; nothing here computes what it shows.
"""
