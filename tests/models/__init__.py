"""Model builders shared by the model tests (tests/test_models_*.py) and benchmarks/model_init.py."""
