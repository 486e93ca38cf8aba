"""All models, importable from one place: ``from marketplace.models import Enterprise``."""
from .base import CHINA_TZ, Role, ShopType, Status, utcnow
from .campaign import (
    EVENT_STATE_LABELS, Offer, OfferKind, OfferStatus, ShoppingEvent, shopping_event_industry,
)
from .directory import (
    Brand, CertStatus, Certification, Enterprise, Shop, enterprise_badge, enterprise_industry,
    public_enterprises, public_shops,
)
from .engagement import (
    ClickEvent, Complaint, ComplaintKind, ComplaintMessage, ComplaintStatus, FeaturedSlot, Placement,
)
from .media import Image
from .outbox import SearchOutbox
from .ratelimit import RateLimitCounter  # also registers RATELIMIT_STORAGE_URI=database://
from .reference import Badge, City, Industry, Platform
from .user import User
from .workflow import AppKind, Application, AppStatus, AuditLog

__all__ = [
    "CHINA_TZ", "Role", "ShopType", "Status", "utcnow",
    "Brand", "CertStatus", "Certification", "Enterprise", "Shop", "enterprise_badge",
    "enterprise_industry", "public_enterprises", "public_shops",
    "ClickEvent", "Complaint", "ComplaintKind", "ComplaintMessage", "ComplaintStatus",
    "FeaturedSlot", "Placement", "Image", "SearchOutbox", "Badge", "City", "Industry", "Platform",
    "User", "AppKind", "Application", "AppStatus", "AuditLog",
    "EVENT_STATE_LABELS", "Offer", "OfferKind", "OfferStatus", "ShoppingEvent", "shopping_event_industry",
]
