"""What people read for the codes the system stores: every controlled code has a label in both
languages here, grouped by kind (``status``, ``channel``, ``occupation``, ...), so no raw code
reaches a page. Figures (metrics) are labelled by :mod:`cakupan.figures`.

Pages use the ``label(kind)`` template filter; :data:`RAW_CODES` is what the browser test looks
for in visible text (codes that are not also ordinary words)."""

from __future__ import annotations

from cakupan import figures
from cakupan.i18n import Lang, Text, t

LABELS: dict[str, dict[str, Text]] = {
    # Participant status on a date (D-3) and the transitions the close records.
    "status": {
        "pending": t("Menunggu bayar", "Pending"),
        "active": t("Aktif", "Active"),
        "arrears": t("Menunggak", "In arrears"),
        "closed": t("Ditutup", "Closed"),
        "void": t("Batal", "Void"),
        "new": t("Baru", "New"),
        "lapsed_to_arrears": t("Jatuh ke tunggakan", "Lapsed into arrears"),
        "closed_by_system": t("Ditutup sistem", "Closed by system"),
        "reacquired": t("Diakuisisi ulang", "Re-acquired"),
        "voided": t("Dibatalkan", "Voided"),
    },
    "channel": {
        "branch": t("Kantor cabang", "Branch office"),
        "online": t("Daring", "Online"),
        "agent": t("Agen", "Agent"),
        "partner": t("Mitra", "Partner"),
        "bank": t("Bank", "Bank"),
        "ewallet": t("Dompet digital", "E-wallet"),
        "pos": t("Kantor Pos", "Post office"),
    },
    "segment": {
        "BPU": t("BPU (bukan penerima upah)", "BPU (informal workers)"),
        "PU": t("PU (penerima upah)", "PU (wage earners)"),
        "JAKON": t("Jasa konstruksi", "Construction services"),
    },
    "source": {
        "ledger": t("Buku besar", "Ledger"),
        "reported": t("Dilaporkan", "Reported"),
    },
    "part_kind": {
        "staff": t("Staf", "Staff"),
        "partner": t("Mitra", "Partner"),
        "district": t("Kecamatan", "District"),
        "region": t("Kantor wilayah", "Regional office"),
        "branch": t("Kantor cabang", "Branch office"),
        "agent": t("Agen", "Agent"),
    },
    "execution_kind": {
        "visit": t("Kunjungan", "Visit"),
        "contact": t("Kontak", "Contact"),
        "letter": t("Surat", "Letter"),
        "new_business": t("Bisnis baru", "New business"),
        "registration": t("Pendaftaran", "Registration"),
    },
    "note_kind": {
        "problem": t("Masalah", "Problem"),
        "solution": t("Solusi", "Solution"),
        "decision": t("Keputusan", "Decision"),
    },
    "action_status": {
        "raised": t("Baru", "New"),
        "carried": t("Lanjutan", "Carried over"),
        "closed_here": t("Ditutup", "Closed"),
        "open": t("Terbuka", "Open"),
        "closed": t("Ditutup", "Closed"),
    },
    "campaign_type": {
        "sosialisasi_offline": t("Sosialisasi tatap muka", "Offline sosialisasi"),
        "sosialisasi_online": t("Sosialisasi daring", "Online sosialisasi"),
        "event": t("Acara (event)", "Event"),
        "bazaar_expo": t("Bazar / pameran", "Bazaar / expo"),
        "advertising": t("Iklan", "Advertising"),
        "direct_marketing": t("Pemasaran langsung", "Direct marketing"),
        "sales_promotion": t("Promosi penjualan", "Sales promotion"),
        "co_marketing_discount": t("Diskon pemasaran bersama", "Co-marketing discount"),
        "community_leader_engagement": t(
            "Pelibatan tokoh masyarakat", "Community-leader engagement"
        ),
    },
    "medium": {
        "print": t("Media cetak", "Print"),
        "tv": t("Televisi", "TV"),
        "radio": t("Radio", "Radio"),
        "online": t("Daring", "Online"),
        "billboard": t("Baliho", "Billboard"),
        "social_media": t("Media sosial", "Social media"),
        "other": t("Lainnya", "Other"),
    },
    "campaign_status": {
        "planned": t("Direncanakan", "Planned"),
        "running": t("Berjalan", "Running"),
        "finished": t("Selesai", "Finished"),
    },
    "funnel_stage": {
        "prospect": t("Prospek", "Prospect"),
        "reached": t("Terjangkau", "Reached"),
        "contacted": t("Terhubung", "Contacted"),
        "interested": t("Tertarik", "Interested"),
        "registered": t("Terdaftar", "Registered"),
        "paid_month_1": t("Bayar bulan 1", "Paid month 1"),
        "retained_month_3": t("Bertahan bulan 3", "Retained month 3"),
        "retained_month_6": t("Bertahan bulan 6", "Retained month 6"),
    },
    "outcome": {
        # Worklist contacts (dashboard) and prospect contacts (campaigns).
        "called": t("Ditelepon", "Called"),
        "visited": t("Dikunjungi", "Visited"),
        "promised_to_pay": t("Janji bayar", "Promised to pay"),
        "refused": t("Menolak", "Refused"),
        "unreachable": t("Tidak tersambung", "Unreachable"),
        "contacted": t("Terhubung", "Contacted"),
        "interested": t("Tertarik", "Interested"),
        # Partner evaluations.
        "continue": t("Dilanjutkan", "Continue"),
        "improve": t("Perlu perbaikan", "Improve"),
        "terminate": t("Diakhiri", "Terminate"),
    },
    "attribution": {
        "campaign_code": t("Kode kampanye", "Campaign code"),
        "prospect_list": t("Daftar prospek", "Prospect list"),
        "time_area_window": t("Waktu dan wilayah kampanye", "Campaign time and area"),
    },
    "warning_dimension": {
        "occupation": t("Pekerjaan", "Occupation"),
        "league_partner": t("Mitra", "Partner"),
        "branch_code": t("Kantor cabang", "Branch office"),
    },
    "partner_kind": {
        "wadah": t("Wadah", "Wadah"),
        "perisai": t("Perisai (agen)", "Perisai (agent)"),
        "korporasi": t("Korporasi", "Corporate"),
        "agen46": t("Agen46 (BNI)", "Agen46 (BNI)"),
        "brilink": t("BRILink", "BRILink"),
        "pos_kc": t("Kantor Pos cabang", "Post office branch"),
        "pos_regional": t("Kantor Pos regional", "Post office region"),
        "pemda": t("Pemerintah daerah", "Local government"),
        "institution": t("Lembaga", "Institution"),
    },
    "partner_status": {
        "recruited": t("Direkrut", "Recruited"),
        "trained": t("Dilatih", "Trained"),
        "active": t("Aktif", "Active"),
        "suspended": t("Dibekukan", "Suspended"),
        "terminated": t("Diakhiri", "Terminated"),
        "submitted": t("Diajukan", "Submitted"),
        "in_review": t("Ditinjau", "In review"),
        "approved": t("Disetujui", "Approved"),
        "rejected": t("Ditolak", "Rejected"),
    },
    "document_kind": {
        "legal": t("Dokumen legalitas", "Legal papers"),
        "ecosystem_profile": t("Profil ekosistem", "Ecosystem profile"),
        "potential_analysis": t("Analisis potensi", "Potential analysis"),
        "other": t("Lainnya", "Other"),
    },
    "agent_standing": {
        "at_risk": t("Berisiko diakhiri", "At risk of termination"),
        "due": t("Jatuh tempo diakhiri", "Due for termination"),
    },
    "statement_status": {
        "draft": t("Draf", "Draft"),
        "approved": t("Disetujui", "Approved"),
        "paid": t("Dibayar", "Paid"),
        "disputed": t("Disanggah", "Disputed"),
    },
    "field": {
        "name": t("Nama", "Name"),
        "phone": t("Telepon", "Phone"),
        "occupation": t("Pekerjaan", "Occupation"),
        "reported_income": t("Penghasilan dilaporkan", "Reported income"),
        "programs": t("Program", "Programs"),
        "district_code": t("Kecamatan", "District"),
        "village_code": t("Desa/kelurahan", "Village"),
        "branch_code": t("Kantor cabang", "Branch office"),
        "address": t("Alamat", "Address"),
    },
    "plan_kind": {
        "week": t("Mingguan", "Weekly"),
        "month": t("Bulanan", "Monthly"),
    },
    # Reminders (issue 16): what a reminder was about, its channel and its delivery status.
    "reminder_kind": {
        "due_before": t("Sebelum jatuh tempo", "Before the due date"),
        "unpaid_code": t("Kode penetapan belum dibayar", "Unpaid payment code"),
        "arrears": t("Tunggakan", "Arrears"),
        "reacquire": t("Ajakan kembali", "Re-acquisition invitation"),
    },
    "reminder_channel": {
        "whatsapp": t("WhatsApp", "WhatsApp"),
        "sms": t("SMS", "SMS"),
    },
    "reminder_status": {
        "queued": t("Antre", "Queued"),
        "sent": t("Terkirim", "Sent"),
        "delivered": t("Sampai", "Delivered"),
        "read": t("Dibaca", "Read"),
        "failed": t("Gagal", "Failed"),
        "cancelled": t("Dibatalkan", "Cancelled"),
    },
    # Bundling offers (docs/bundling.md).
    "offer_product": {
        "credit": t("Kredit", "Credit"),
        "savings": t("Tabungan", "Savings"),
        "insurance": t("Asuransi", "Insurance"),
        "ewallet": t("Dompet elektronik", "E-wallet"),
    },
    "offer_coverage": {
        "includes": t("Termasuk iuran BPU", "Includes BPU contributions"),
        "requires": t("Mensyaratkan kepesertaan BPU", "Requires BPU coverage"),
    },
    "offer_payer": {
        "partner": t("Mitra", "Partner"),
        "participant": t("Peserta", "Participant"),
        "split": t("Dibagi", "Split"),
    },
}


def _occupations() -> dict[str, Text]:
    """The registry's shipped occupation list (data/occupations.csv) is the occupations' labels."""
    from cakupan.registry.reference import shipped_occupations

    return {row["code"]: t(row["name_id"], row["name_en"]) for row in shipped_occupations()}


LABELS["occupation"] = _occupations()

#: Codes that must never be visible on a page (identifier-shaped: not ordinary words in either
#: language). The browser test fails on any of them in a page's visible text.
RAW_CODES: frozenset[str] = frozenset(
    code for kind in LABELS.values() for code in kind if "_" in code and code not in {"branch_code"}
) | frozenset(code for code in figures.FIGURES if "_" in code)


def label(kind: str, code: object, lang: Lang = "id") -> str:
    """The label of ``code`` among ``kind``'s codes (a figure code when ``kind`` is ``metric``);
    the code itself when unknown (new data shows rather than fails); ``–`` for None."""
    if code is None or code == "":
        return "–"
    text = str(code)
    if kind == "metric":
        return figures.label(text, lang)
    found = LABELS.get(kind, {}).get(text)
    return text if found is None else found.render(lang)
