"""The card page tests use the Apple kit: a programme with a pass certificate."""

from tests.apple.conftest import (  # noqa: F401  (fixtures)
    app,
    apple_table,
    chain_dir,
    client,
    dev_chain,
    program,
)
