"""The search application over a gallery index: pipeline, sources, results, plot, server and page."""
