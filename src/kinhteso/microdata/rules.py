"""The record rules of e-invoice microdata: why a record is set aside, in Vietnamese and English.

Every record read is either **kept** (it counts in the aggregates) or **set aside** with exactly one
reason (the first that applies, in the order of :data:`REASONS`) and written to the quarantine
output; nothing is dropped silently. The kinds:

- ``malformed``: the record cannot be read as an e-invoice (a field missing or outside its code
  list, an amount that is not a non-negative number, a time without its UTC offset);
- ``duplicate``: the same ``invoice_id`` as an earlier record (the first, in the order of the files
  and of the rows within them, is kept);
- ``rule``: excluded by the e-invoice rules. Decree 123/2020/NĐ-CP (Nghị định 123/2020/NĐ-CP về hóa
  đơn, chứng từ, 19/10/2020), Article 19 ("Xử lý hóa đơn có sai sót"), and Circular
  78/2021/TT-BTC (Thông tư 78/2021/TT-BTC, 17/9/2021), Article 7 and form 04/SS-HĐĐT: a **cancelled**
  invoice (hóa đơn bị hủy) has no value and is not used; a **replacement** invoice (hóa đơn thay
  thế) supersedes the invoice it replaces, which then no longer counts; the replacement counts in
  its own month. Here: ``status = cancelled`` → ``CANCELLED``; ``status = replaced``, or an id named
  in another kept-or-cancelled record's ``replaces`` → ``REPLACED``.

Standard library only.

>>> [r.code for r in REASONS][:3]
['MISSING_ID', 'MISSING_SELLER', 'UNKNOWN_TERRITORY']
>>> reason("CANCELLED").kind
'rule'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reason", "REASONS", "reason", "COLUMNS", "REQUIRED", "BUYER_TYPES", "CHANNELS", "STATUSES",
           "VN_OFFSET_HOURS", "SOURCES"]

#: The columns of an e-invoice record (``replaces`` may be absent from a file without replacements).
COLUMNS = ("invoice_id", "seller_tax_code", "seller_territory", "seller_vsic", "buyer_type", "channel",
           "issued_at", "amount_vnd", "status", "replaces")
#: The columns a file must have.
REQUIRED = COLUMNS[:-1]
BUYER_TYPES = ("B2B", "B2C", "B2G")
CHANNELS = ("online", "offline")
STATUSES = ("issued", "cancelled", "replaced")
#: Viet Nam's time (UTC+7, no daylight saving since 1975): a record's month is its month in it.
VN_OFFSET_HOURS = 7
#: The legal sources of the rules, cited by the documents and the reports.
SOURCES = {
    "decree": "Nghị định 123/2020/NĐ-CP ngày 19/10/2020 quy định về hóa đơn, chứng từ (Điều 19) / "
              "Decree 123/2020/ND-CP on invoices and records (Article 19)",
    "circular": "Thông tư 78/2021/TT-BTC ngày 17/9/2021 hướng dẫn Nghị định 123 (Điều 7; mẫu 04/SS-HĐĐT) / "
                "Circular 78/2021/TT-BTC implementing Decree 123 (Article 7; form 04/SS-HDDT)",
}


@dataclass(frozen=True)
class Reason:
    """Why a record is set aside: ``code``, ``kind`` (malformed, duplicate, rule) and the wording."""

    code: str
    kind: str
    vi: str
    en: str


#: Every reason, in the order they are tested (a record gets the first that applies).
REASONS: tuple[Reason, ...] = (
    Reason("MISSING_ID", "malformed", "thiếu số hóa đơn (invoice_id)", "the invoice id is missing"),
    Reason("MISSING_SELLER", "malformed", "thiếu mã số thuế người bán", "the seller's tax code is missing"),
    Reason("UNKNOWN_TERRITORY", "malformed", "địa bàn người bán không có trong danh mục (khóa như 34:31)",
           "the seller's territory is not a known key (such as 34:31)"),
    Reason("UNKNOWN_VSIC", "malformed", "ngành VSIC 2018 không hợp lệ (cần mã ngành cấp 4, 4 chữ số)",
           "not a VSIC 2018 class (4 digits of a known division)"),
    Reason("BAD_BUYER_TYPE", "malformed", "loại người mua không phải B2B, B2C hoặc B2G",
           "the buyer type is not B2B, B2C or B2G"),
    Reason("BAD_CHANNEL", "malformed", "kênh không phải online hoặc offline", "the channel is not online or offline"),
    Reason("BAD_STATUS", "malformed", "trạng thái không phải issued, cancelled hoặc replaced",
           "the status is not issued, cancelled or replaced"),
    Reason("BAD_AMOUNT", "malformed", "số tiền thiếu hoặc không phải là số", "the amount is missing or not a number"),
    Reason("NEGATIVE_AMOUNT", "malformed", "số tiền âm", "the amount is negative"),
    Reason("TIME_WITHOUT_ZONE", "malformed", "thời điểm lập không ghi múi giờ (cần như +07:00)",
           "the time has no UTC offset (such as +07:00)"),
    Reason("BAD_TIME", "malformed", "thời điểm lập thiếu hoặc không đọc được", "the time is missing or unreadable"),
    Reason("DUPLICATE_INVOICE", "duplicate", "trùng số hóa đơn với một bản ghi trước (giữ bản ghi đầu)",
           "repeats an earlier record's invoice id (the first is kept)"),
    Reason("CANCELLED", "rule", "hóa đơn đã hủy: không có giá trị (NĐ 123/2020, Điều 19; TT 78/2021)",
           "cancelled invoice: it has no value (Decree 123/2020, art. 19; Circular 78/2021)"),
    Reason("REPLACED", "rule", "hóa đơn đã bị thay thế: hóa đơn thay thế được tính (NĐ 123/2020, Điều 19)",
           "replaced invoice: the replacement counts instead (Decree 123/2020, art. 19)"),
)
_BY_CODE = {r.code: r for r in REASONS}


def reason(code: str) -> Reason:
    """The :class:`Reason` of ``code``."""
    return _BY_CODE[code]
