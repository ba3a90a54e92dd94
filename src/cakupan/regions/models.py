"""Tables of Indonesia's administrative areas and of the BPJS Ketenagakerjaan offices.

Area codes are Kemendagri's, dotted as in the source data: province ``16``, regency ``16.71``,
district (kecamatan) ``16.71.01``, village ``16.71.01.1001``. Offices: a regional office (Kanwil,
:class:`OfficeRegion`) covers whole provinces; a branch (Kantor Cabang, :class:`Branch`) belongs to
one region and covers regencies, each regency belonging to at most one branch.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import Base


class Province(Base):
    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Regency(Base):
    __tablename__ = "regency"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class District(Base):
    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    regency_code: Mapped[str] = mapped_column(ForeignKey("regency.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Village(Base):
    __tablename__ = "village"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class OfficeRegion(Base):
    """A regional office (Kantor Wilayah, Kanwil), e.g. ``SUMBAGSEL``."""

    __tablename__ = "office_region"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class RegionProvince(Base):
    """A province covered by a regional office (a province belongs to one region)."""

    __tablename__ = "region_province"

    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("office_region.code"), index=True)


class Branch(Base):
    """A branch office (Kantor Cabang), e.g. ``PLG`` Palembang, under one regional office."""

    __tablename__ = "branch"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("office_region.code"), index=True)


class BranchRegency(Base):
    """A regency served by a branch (a regency belongs to at most one branch)."""

    __tablename__ = "branch_regency"

    regency_code: Mapped[str] = mapped_column(ForeignKey("regency.code"), primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branch.code"), index=True)
