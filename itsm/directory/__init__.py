"""The directory: contracts, districts, institutions and their configuration items."""

from itsm.area import Area

AREA = Area("directory", models="itsm.directory.models", api=("itsm.directory.api:blp",))
