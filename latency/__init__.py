"""What an architecture costs on a device: layer signatures, profiling, tables, predictors."""
