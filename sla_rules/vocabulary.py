"""The words the contracts, the SLA policies and the service share: kinds of ticket and
institution, priorities, categories, district tiers, system groups, channels. Pure, so
policies are checked against the same lists the database stores (`itsm/models/types.py`
imports them)."""

from __future__ import annotations

import enum


class DistrictTier(enum.StrEnum):
    """How far out a district is: on-site targets differ (2 h in town, 4 h in far suburbs)."""

    URBAN = "urban"
    NEAR_SUBURB = "near_suburb"
    FAR_SUBURB = "far_suburb"


class InstitutionKind(enum.StrEnum):
    COMMISSION = "commission"
    QC_CENTER = "qc_center"
    COMMUNITY_CENTER = "community_center"
    COMMUNITY_STATION = "community_station"
    CLINIC = "clinic"
    HOSPITAL = "hospital"
    OTHER = "other"


class TicketKind(enum.StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"
    CONSULTATION = "consultation"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class BugClass(enum.StrEnum):
    """Software defect classes of C3-2 (严重 / 普通 / 轻微)."""

    SEVERE = "severe"
    NORMAL = "normal"
    MINOR = "minor"


class Category(enum.StrEnum):
    SOFTWARE = "software"
    HARDWARE = "hardware"
    NETWORK = "network"
    DATABASE = "database"
    DATA = "data"
    TRAINING = "training"
    OTHER = "other"


class SystemGroup(enum.StrEnum):
    """What kind of system a configuration item is: some contracts set limits per service
    item, not one list (C4-2: the HIS restores within 1 h, the interoperability platform's
    longest single outage is 2 h), so policy rules may match on it."""

    HIS = "his"
    INTEROPERABILITY = "interoperability"
    LIS = "lis"
    PACS = "pacs"
    CLOUD = "cloud"
    SERVER = "server"
    NETWORK = "network"
    DATA = "data"
    APPLICATION = "application"


class Channel(enum.StrEnum):
    """How a ticket reached the service desk."""

    PHONE = "phone"
    WEB = "web"
    WECHAT = "wechat"
    MOBILE = "mobile"
    EMAIL = "email"
    MONITORING = "monitoring"
