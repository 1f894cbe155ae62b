"""The test kit: the fixtures every area shares (loaded by tests/conftest.py as plugins) and
the plain helpers test modules import. Area conftests only choose among them (which programme,
which settings) or add what one area alone needs."""
