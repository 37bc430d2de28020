"""The fixed parts of the sample world: brands, their industries, hours and service habits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Brand:
    handle: str
    name: str
    industry: str
    timezone: str
    open_hour: int
    close_hour: int
    business_days: tuple[int, ...]  # ISO weekdays, Monday = 1
    holidays: tuple[str, ...]
    sla_minutes: int
    weight: float  # share of the social volume
    response_rate: float  # chance an inbound post gets a reply
    median_reply_minutes: float  # within business hours
    recovery_skill: float  # chance a handled complaint ends happy


US_HOLIDAYS = ("2025-11-27", "2025-12-25", "2026-01-01", "2026-05-25", "2026-07-03", "2026-09-07")
UK_HOLIDAYS = ("2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-08-31")
DE_HOLIDAYS = ("2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-05-01", "2026-10-03")
WEEKDAYS = (1, 2, 3, 4, 5)
ALL_WEEK = (1, 2, 3, 4, 5, 6, 7)

BRANDS: tuple[Brand, ...] = (
    Brand("SkyLarkAir", "SkyLark Airways", "airline", "America/New_York", 6, 22, ALL_WEEK, (), 30, 1.3, 0.92, 14, 0.62),
    Brand("NorthJetHelp", "NorthJet", "airline", "America/Chicago", 8, 18, (1, 2, 3, 4, 5, 6), US_HOLIDAYS, 60, 1.0, 0.71, 55, 0.41),
    Brand("AeroPacificCare", "AeroPacific", "airline", "America/Los_Angeles", 7, 19, ALL_WEEK, (), 45, 0.7, 0.83, 30, 0.52),
    Brand("VoltMobileCare", "Volt Mobile", "telecom", "Europe/London", 9, 17, WEEKDAYS, UK_HOLIDAYS, 120, 1.2, 0.78, 40, 0.48),
    Brand("ClearWaveHelp", "ClearWave", "telecom", "America/New_York", 8, 20, (1, 2, 3, 4, 5, 6), US_HOLIDAYS, 60, 0.9, 0.88, 22, 0.57),
    Brand("ParcelMartHelp", "ParcelMart", "ecommerce", "America/New_York", 9, 18, (1, 2, 3, 4, 5, 6), US_HOLIDAYS, 240, 1.4, 0.86, 35, 0.6),
    Brand("BasketBoxSupport", "BasketBox", "ecommerce", "Europe/Berlin", 9, 17, WEEKDAYS, DE_HOLIDAYS, 240, 0.8, 0.64, 90, 0.38),
)

INDUSTRY_ORDER_VALUE = {"airline": (5.6, 0.5), "telecom": (4.0, 0.3), "ecommerce": (3.6, 0.8)}  # lognormal mu, sigma
INDUSTRY_ORDERS_PER_MONTH = {"airline": 0.25, "telecom": 1.0, "ecommerce": 1.6}


def competitors(brand: Brand) -> list[str]:
    return [other.handle for other in BRANDS if other.industry == brand.industry and other.handle != brand.handle]
