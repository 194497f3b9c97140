"""Accounts: people, their roles and contracts, API tokens, sign-in and who may see what."""

from itsm.area import Area

AREA = Area(
    "accounts",
    models="itsm.accounts.models",
    api=("itsm.accounts.api:blp",),
    pages=("itsm.accounts.pages:bp",),
)
