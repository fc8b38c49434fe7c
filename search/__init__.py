"""How architectures are chosen: objective, proxy training, Optuna study, Ray workers, CLI."""
