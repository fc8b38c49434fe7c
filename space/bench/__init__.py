"""Scripts that check `space` against implementations it did not build (not imported by space)."""
