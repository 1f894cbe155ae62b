"""The shop owner's side: migration import (admin API and dashboard come next)."""
