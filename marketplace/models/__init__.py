"""All models, importable from one place: ``from marketplace.models import Enterprise``."""
from .base import Role, ShopType, Status
from .content import NewsArticle, NewsCategory, NewsStatus
from .campaign import (
    EVENT_STATE_LABELS, Offer, OfferKind, OfferStatus, ShoppingEvent, shopping_event_industry,
)
from .directory import (
    Brand, CertStatus, Certification, Enterprise, Shop, display_name, enterprise_badge, enterprise_industry,
    enterprise_is_public, shop_is_public,
)
from .engagement import (
    ClickEvent, Complaint, ComplaintFeedback, ComplaintKind, ComplaintMessage, ComplaintStatus, DesiredOutcome,
    FeaturedSlot, Placement,
)
from .forms import UsedFormToken
from .media import Image
from .evidence import PDF_MIME, Evidence, EvidencePage
from .outbox import OutboxPruned, SearchApplierHeartbeat, SearchOutbox, directory_changed_at, directory_version
from .reference import Badge, City, Industry, Platform
from .synonym import SearchSynonym, SynonymCategory, SynonymKind
from .reminders import ReminderSent
from .reporting import MonthlyReport, MonthlyReportLine, ReportStatus
from .user import User
from .workflow import AppKind, Application, AppStatus, AuditLog
from .authorization import (
    AuthorizationSource, AuthorizationStatus, BrandAuthorization, ShopAuthorization, brand_authorization_platform,
)
from .annual import AnnualConfirmation, ConfirmationStatus
from .changes import CertificationEvent, EventType
from .watch import ImpersonationSighting, SightingKind
from .notice import NoticeObjection, NoticeStatus, ObjectionStatus, PublicNotice
from .product import MAX_PHOTOS, Product, ProductLink, ProductPhoto, ProductStatus, product_is_public

__all__ = [
    "Role", "ShopType", "Status",
    "Brand", "CertStatus", "Certification", "Enterprise", "Shop", "enterprise_badge",
    "display_name", "enterprise_industry", "enterprise_is_public", "shop_is_public",
    "ClickEvent", "Complaint", "ComplaintKind", "ComplaintMessage", "ComplaintStatus",
    "FeaturedSlot", "Placement", "Image", "Evidence", "EvidencePage", "PDF_MIME",
    "SearchOutbox", "SearchApplierHeartbeat", "OutboxPruned", "Badge", "City", "Industry", "Platform",
    "User", "AppKind", "Application", "AppStatus", "AuditLog",
    "NewsArticle", "NewsCategory", "NewsStatus",
    "directory_changed_at", "directory_version",
    "AuthorizationSource", "AuthorizationStatus", "BrandAuthorization", "ShopAuthorization",
    "brand_authorization_platform", "AnnualConfirmation", "ConfirmationStatus", "CertificationEvent", "EventType",
    "ImpersonationSighting", "SightingKind",
    "NoticeObjection", "NoticeStatus", "ObjectionStatus", "PublicNotice",
    "SearchSynonym", "SynonymCategory", "SynonymKind",
    "ComplaintFeedback", "DesiredOutcome", "UsedFormToken", "ReminderSent", "MonthlyReport", "MonthlyReportLine",
    "ReportStatus",
    "MAX_PHOTOS", "Product", "ProductLink", "ProductPhoto", "ProductStatus", "product_is_public",
    "EVENT_STATE_LABELS", "Offer", "OfferKind", "OfferStatus", "ShoppingEvent", "shopping_event_industry",
]
