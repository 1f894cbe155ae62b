"""Alembic environment: the connection is handed in by walletcards.migrate (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from walletcards.admin import rollup_models as rollup_models
from walletcards.apple import models as apple_models  # noqa: F401
from walletcards.cashier import models as cashier_models  # noqa: F401
from walletcards.db import Model
from walletcards.google import models as google_models  # noqa: F401
from walletcards.loyalty import campaign_models as campaign_models
from walletcards.loyalty import member_models as member_models
from walletcards.loyalty import models  # noqa: F401  (registers the tables)
from walletcards.loyalty import redemption_models as redemption_models
from walletcards.loyalty import referral_models as referral_models
from walletcards.loyalty import segment_models as segment_models
from walletcards.messages import models as message_models  # noqa: F401
from walletcards.orders import models as order_models  # noqa: F401
from walletcards.shops import models as shop_models  # noqa: F401
from walletcards.staff import models as staff_models  # noqa: F401

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Model.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
