"""regions: administrative areas (province, regency, district, village) and BPJS TK offices

Revision ID: regions_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "regions_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("regions",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "province",
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_province"),
    )
    op.create_table(
        "regency",
        sa.Column("code", sa.String(5), nullable=False),
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_regency"),
        sa.ForeignKeyConstraint(
            ["province_code"], ["province.code"], name="fk_regency_province_code_province"
        ),
    )
    op.create_index("ix_regency_province_code", "regency", ["province_code"])
    op.create_table(
        "district",
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("regency_code", sa.String(5), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_district"),
        sa.ForeignKeyConstraint(
            ["regency_code"], ["regency.code"], name="fk_district_regency_code_regency"
        ),
    )
    op.create_index("ix_district_regency_code", "district", ["regency_code"])
    op.create_table(
        "village",
        sa.Column("code", sa.String(13), nullable=False),
        sa.Column("district_code", sa.String(8), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_village"),
        sa.ForeignKeyConstraint(
            ["district_code"], ["district.code"], name="fk_village_district_code_district"
        ),
    )
    op.create_index("ix_village_district_code", "village", ["district_code"])
    op.create_table(
        "office_region",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_office_region"),
    )
    op.create_table(
        "region_province",
        sa.Column("province_code", sa.String(2), nullable=False),
        sa.Column("region_code", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("province_code", name="pk_region_province"),
        sa.ForeignKeyConstraint(
            ["province_code"], ["province.code"], name="fk_region_province_province_code_province"
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["office_region.code"],
            name="fk_region_province_region_code_office_region",
        ),
    )
    op.create_index("ix_region_province_region_code", "region_province", ["region_code"])
    op.create_table(
        "branch",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("region_code", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_branch"),
        sa.ForeignKeyConstraint(
            ["region_code"], ["office_region.code"], name="fk_branch_region_code_office_region"
        ),
    )
    op.create_index("ix_branch_region_code", "branch", ["region_code"])
    op.create_table(
        "branch_regency",
        sa.Column("regency_code", sa.String(5), nullable=False),
        sa.Column("branch_code", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("regency_code", name="pk_branch_regency"),
        sa.ForeignKeyConstraint(
            ["regency_code"], ["regency.code"], name="fk_branch_regency_regency_code_regency"
        ),
        sa.ForeignKeyConstraint(
            ["branch_code"], ["branch.code"], name="fk_branch_regency_branch_code_branch"
        ),
    )
    op.create_index("ix_branch_regency_branch_code", "branch_regency", ["branch_code"])


def downgrade() -> None:
    for table in (
        "branch_regency",
        "branch",
        "region_province",
        "office_region",
        "village",
        "district",
        "regency",
        "province",
    ):
        op.drop_table(table)
