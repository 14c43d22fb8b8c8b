"""Column names in words, for readers: one table of every column a command shows.

A table printed in Vietnamese and the headers of an XLSX file name their columns in words
(``de_va`` → "GTTT kinh tế số"); JSON and CSV keep the codes (``de_va``), which programs read.
XLSX headers carry the unit too (``de_va (tỷ đồng)``), and the XLSX legend sheet explains every
column with :func:`column_legend`. The unit of a column also fixes how many decimals CSV/XLSX
keep (:func:`kinhteso.reference.indicators.unit_precision`).

>>> column_name("de_va", "vi"), column_name("de_va", "en"), column_name("no_such", "vi")
('GTTT kinh tế số', 'de_va', 'no_such')
>>> column_header("de_va", "en")
'de_va (billion đồng)'
"""

from __future__ import annotations

__all__ = ["COLUMNS", "EXTRA_UNITS", "TERMS", "column_name", "column_unit", "column_precision", "column_header",
           "column_legend", "term", "term_words"]

#: Units of columns that are not indicator units: code → (vi, en, decimals in CSV/XLSX).
EXTRA_UNITS: dict[str, tuple[str, str, int]] = {
    "PP": ("điểm phần trăm", "percentage points", 2),
    "YEARS": ("năm", "years", 1),
}

#: code → (Vietnamese name, unit code or None, Vietnamese meaning, English meaning).
COLUMNS: dict[str, tuple[str, str | None, str, str]] = {
    # who, where, when
    "territory": ("Địa bàn", None, "Mã địa bàn (VN, 34:NN theo 34 tỉnh từ 2025, 63:NN theo 63 tỉnh cũ)", "Territory key (VN, 34:NN on the 34-province basis from 2025, 63:NN on the old 63)"),
    "name": ("Tên", None, "Tên địa bàn", "Territory name"),
    "period": ("Kỳ", None, "Kỳ (năm 2024, quý 2024-Q3, tháng 2024-07)", "Period (year 2024, quarter 2024-Q3, month 2024-07)"),
    "year": ("Năm", None, "Năm", "Year"),
    "indicator": ("Chỉ tiêu", None, "Mã chỉ tiêu (`kinhteso indicator list`)", "Indicator code (`kinhteso indicator list`)"),
    "sector": ("Ngành", None, "Mã ngành VSIC ('_T' = tổng)", "VSIC industry code ('_T' = total)"),
    "section": ("Khu vực VSIC", None, "Khu vực VSIC cấp 1 (chữ cái)", "VSIC section (letter)"),
    "sector_name": ("Tên ngành", None, "Tên ngành", "Industry name"),
    "level": ("Cấp / mức", None, "measure: cấp ngành (section = khu vực, division = ngành cấp 2); gaps/plan: mức tin cậy của khoảng dự báo", "measure: industry level (section, division); gaps/plan: confidence level of the prediction interval"),
    "view": ("Cách đo", None, "Cách đo kinh tế số: gso (GSO/NSO), mic (Bộ TT&TT/KH&CN), oecd", "Digital-economy view: gso (GSO/NSO), mic (MIC/MOST), oecd"),
    "unit": ("Đơn vị", None, "Mã đơn vị (VND_BN tỷ đồng, PCT %, RATIO 0–1, INDEX01 điểm 0–1, COUNT số lượng...)", "Unit code (VND_BN billion đồng, PCT %, RATIO 0–1, INDEX01 score 0–1, COUNT...)"),
    "illustrative": ("Minh họa", None, "True: số liệu minh họa (demo), không phải số liệu thống kê chính thức", "True: illustrative demo data, not official statistics"),
    "price_basis": ("Giá", None, "current = giá hiện hành; constant2010 = giá so sánh 2010", "current = current prices; constant2010 = constant 2010 prices"),
    # measure
    "component": ("Thành phần", None, "Thành phần kinh tế số (core = lõi, digitalised = số hóa, ict, platform = nền tảng, sectoral = số hóa ngành, total = tổng)", "Digital-economy component (core, digitalised, ict, platform, sectoral, total)"),
    "va": ("Giá trị tăng thêm", "VND_BN", "Giá trị tăng thêm (GTTT)", "Value added"),
    "share": ("Tỷ trọng trong GRDP", "PCT", "Phần trăm GRDP", "Percent of GRDP"),
    "de_va": ("GTTT kinh tế số", "VND_BN", "Giá trị tăng thêm của kinh tế số", "Digital-economy value added"),
    "core_va": ("GTTT kinh tế số lõi", "VND_BN", "Giá trị tăng thêm của các ngành kinh tế số lõi (ICT)", "Value added of the core (ICT) digital-economy industries"),
    "digitalised_va": ("GTTT số hóa", "VND_BN", "Giá trị tăng thêm từ số hóa các ngành khác", "Value added from the digitalisation of other industries"),
    "grdp": ("GRDP", "VND_BN", "Tổng sản phẩm trên địa bàn", "Gross regional domestic product"),
    "de_share": ("Tỷ trọng kinh tế số", "PCT", "GTTT kinh tế số / GRDP × 100", "Digital-economy value added / GRDP × 100"),
    "core_share": ("Tỷ trọng KTS lõi", "PCT", "GTTT kinh tế số lõi / GRDP × 100", "Core value added / GRDP × 100"),
    "digitalised_share": ("Tỷ trọng số hóa", "PCT", "GTTT số hóa / GRDP × 100", "Digitalised value added / GRDP × 100"),
    "ict_va": ("GTTT ICT (lõi)", "VND_BN", "Giá trị tăng thêm của các ngành ICT (cách đo MIC)", "ICT value added (MIC view)"),
    "platform_va": ("GTTT nền tảng số", "VND_BN", "Giá trị tăng thêm của các nền tảng số (cách đo MIC)", "Digital-platform value added (MIC view)"),
    "sectoral_va": ("GTTT số hóa ngành", "VND_BN", "Giá trị tăng thêm từ số hóa các ngành (cách đo MIC)", "Sectoral digitalisation value added (MIC view)"),
    "ict_share": ("Tỷ trọng ICT", "PCT", "GTTT ICT / GRDP × 100", "ICT value added / GRDP × 100"),
    "platform_share": ("Tỷ trọng nền tảng số", "PCT", "GTTT nền tảng số / GRDP × 100", "Platform value added / GRDP × 100"),
    "sectoral_share": ("Tỷ trọng số hóa ngành", "PCT", "GTTT số hóa ngành / GRDP × 100", "Sectoral digitalisation value added / GRDP × 100"),
    "contribution_pp": ("Đóng góp", "PP", "Đóng góp của ngành vào tỷ trọng kinh tế số, điểm phần trăm", "The industry's contribution to the digital-economy share, percentage points"),
    "ownership": ("Sở hữu", None, "Thành phần sở hữu (state = nhà nước, nonstate = ngoài nhà nước, fdi = FDI)", "Ownership (state, nonstate, fdi)"),
    "label": ("Nhãn", None, "Tên thành phần sở hữu", "Ownership name"),
    "share_of_grdp": ("Phần trăm GRDP", "PCT", "GTTT kinh tế số của nhóm / GRDP × 100", "The group's digital-economy value added / GRDP × 100"),
    "share_of_de": ("Phần trăm kinh tế số", "PCT", "GTTT kinh tế số của nhóm / tổng kinh tế số × 100", "The group's share of the digital economy, %"),
    "warnings": ("Cảnh báo", None, "Số cảnh báo (JSON liệt kê từng cảnh báo)", "Number of warnings (JSON lists them)"),
    "item": ("Khoản", None, "Khoản của cầu nối GSO → MIC", "Item of the GSO → MIC bridge"),
    # observations, results, vintages
    "value": ("Giá trị", None, "Giá trị, theo đơn vị ở cột Đơn vị", "Value, in the unit of the unit column"),
    "status": ("Trạng thái", None, "Observations/results: A thực tế, E ước tính, F dự báo; gaps: đạt / đúng hướng / có nguy cơ / chệch hướng", "Observations/results: A actual, E estimated, F forecast; gaps: achieved, on track, at risk, off track"),
    "units": ("Số đơn vị báo cáo", None, "Số đơn vị báo cáo khác nhau (bến, bệnh viện, trường, cơ quan) mà số tính từ bản ghi dựa trên; dưới 3 thì không công bố cho người khác (docs/sharing.md)", "Distinct reporting units (terminals, hospitals, schools, offices) a value derived from records rests on; under 3 it is not published to others (docs/sharing.md)"),
    "basis": ("Cơ sở", None, "Cơ sở của số (published công bố, benchmarked khớp số năm, estimated ước tính, nowcast) hoặc chỉ tiêu gốc của mục tiêu", "Basis of the figure (published, benchmarked, estimated, nowcast) or the target's own indicator"),
    "vintage": ("Phiên bản", None, "Số phiên bản số liệu (lần nạp tệp)", "Data vintage number (one ingested file)"),
    "vintage_id": ("Phiên bản", None, "Số phiên bản số liệu (lần nạp tệp)", "Data vintage number (one ingested file)"),
    "source": ("Nguồn", None, "Nguồn số liệu hoặc văn bản", "Data source or document"),
    "backcast": ("Ước ngược", None, "True: giá trị ước ngược về ranh giới cũ/mới", "True: value back-cast to another boundary"),
    "derived_from": ("Suy ra từ", None, "Nguồn mà giá trị được suy ra (nếu có)", "What the value was derived from (if any)"),
    "run_id": ("Lần chạy", None, "Mã lần chạy đã tính kết quả", "Id of the run that computed the result"),
    "kind": ("Loại", None, "Loại lần chạy (accounts, quarterly, index...), chỉ tiêu (registry, derived) hoặc thành viên", "Kind of run (accounts, quarterly, index...), of indicator (registry, derived) or of member"),
    "method": ("Phương pháp", None, "Phương pháp tính", "Method"),
    "computed_at": ("Thời điểm tính", None, "Thời điểm tính (UTC)", "When computed (UTC)"),
    "inputs": ("Đầu vào", None, "Các lần chạy và phiên bản số liệu đã đọc", "Runs and vintages read"),
    "received_at": ("Thời điểm nhận", None, "Thời điểm nạp tệp", "When the file was ingested"),
    "file_name": ("Tên tệp", None, "Tên tệp đã nạp", "Name of the ingested file"),
    "sha256": ("SHA-256 tệp", None, "Mã băm SHA-256 của tệp", "SHA-256 hash of the file"),
    "content_sha256": ("SHA-256 nội dung", None, "Mã băm SHA-256 của nội dung đã chuẩn hóa", "SHA-256 hash of the normalised content"),
    "n_rows": ("Số dòng", "COUNT", "Số dòng quan sát", "Number of observation rows"),
    "note": ("Ghi chú", None, "Ghi chú", "Note"),
    "retracted_at": ("Thời điểm rút", None, "Thời điểm phiên bản bị rút (trống: còn hiệu lực)", "When the vintage was retracted (empty: in force)"),
    "retraction_reason": ("Lý do rút", None, "Lý do rút phiên bản", "Why the vintage was retracted"),
    # targets: gaps, plan, scenario, target list
    "latest_value": ("Giá trị mới nhất", None, "Giá trị mới nhất của chỉ tiêu (đơn vị của chỉ tiêu)", "Latest value of the indicator (in its unit)"),
    "latest_period": ("Kỳ mới nhất", None, "Kỳ của giá trị mới nhất", "Period of the latest value"),
    "target_value": ("Mục tiêu", None, "Giá trị mục tiêu (đơn vị của chỉ tiêu)", "Target value (in the indicator's unit)"),
    "target_year": ("Năm mục tiêu", None, "Năm phải đạt mục tiêu", "Year the target is due"),
    "comparison": ("So sánh", None, "Cách so với mục tiêu (>=, >, <=, <, =)", "How the value is compared with the target"),
    "direction": ("Chiều", None, "higher = càng cao càng tốt; lower = càng thấp càng tốt", "higher or lower is better"),
    "gap": ("Khoảng cách", None, "Khoảng cách còn lại tới mục tiêu (đơn vị của chỉ tiêu)", "Remaining distance to the target (in the indicator's unit)"),
    "relative_gap": ("Khoảng cách tương đối", "RATIO", "Khoảng cách / giá trị mới nhất", "Gap / latest value"),
    "required_cagr": ("Tăng cần thiết/năm", "RATIO", "Tốc độ tăng bình quân năm cần để đạt mục tiêu (0,05 = 5%)", "Compound annual growth needed to reach the target (0.05 = 5%)"),
    "trend_cagr": ("Tăng theo xu hướng/năm", "RATIO", "Tốc độ tăng bình quân năm theo xu hướng (0,05 = 5%)", "Compound annual growth of the trend (0.05 = 5%)"),
    "required_%": ("Tăng cần thiết (%/năm)", "PCT", "Tốc độ tăng bình quân năm cần để đạt mục tiêu", "Compound annual growth needed to reach the target"),
    "trend_%": ("Tăng theo xu hướng (%/năm)", "PCT", "Tốc độ tăng bình quân năm theo xu hướng", "Compound annual growth of the trend"),
    "trend_model": ("Mô hình xu hướng", None, "Mô hình xu hướng (loglinear, linear...)", "Trend model (loglinear, linear...)"),
    "n_obs": ("Số quan sát", "COUNT", "Số quan sát dùng cho xu hướng", "Observations used for the trend"),
    "projected_value": ("Dự phóng", None, "Giá trị dự phóng theo xu hướng ở năm mục tiêu", "Trend projection in the target year"),
    "projected_low": ("Dự phóng thấp", None, "Cận dưới khoảng dự báo", "Lower bound of the prediction interval"),
    "projected_high": ("Dự phóng cao", None, "Cận trên khoảng dự báo", "Upper bound of the prediction interval"),
    "probability": ("Xác suất đạt", "RATIO", "Xác suất đạt mục tiêu theo xu hướng (0–1)", "Probability of reaching the target on the trend (0–1)"),
    "prob_%": ("Xác suất đạt (%)", "PCT", "Xác suất đạt mục tiêu theo xu hướng", "Probability of reaching the target on the trend"),
    "years_behind": ("Số năm chậm", "YEARS", "Số năm xu hướng chậm so với mục tiêu (âm: đi trước)", "Years the trend is behind the target (negative: ahead)"),
    "measured_on": ("Đo trên", None, "Chuỗi số dùng để đo (chỉ tiêu@địa bàn)", "Series measured (indicator@territory)"),
    "target_source": ("Văn bản mục tiêu", None, "Văn bản đặt mục tiêu", "Document setting the target"),
    "target_url": ("Liên kết văn bản", None, "Địa chỉ văn bản", "Address of the document"),
    "url": ("Liên kết", None, "Địa chỉ nguồn", "Address of the source"),
    "confidence": ("Độ tin cậy", None, "Độ tin cậy của mục tiêu (high, medium, low)", "Confidence in the target (high, medium, low)"),
    "carried_over": ("Chuyển tiếp", None, "True: mục tiêu chuyển từ địa bàn trước sáp nhập", "True: target carried over from a pre-merger territory"),
    "inherited": ("Kế thừa", None, "True: dùng mục tiêu quốc gia", "True: national target used"),
    "boundary": ("Ranh giới", None, "Địa bàn (ranh giới) mục tiêu đặt trên", "Territory (boundary) the target was set on"),
    "series_indicator": ("Chỉ tiêu đo", None, "Chỉ tiêu của chuỗi dùng để đo", "Indicator of the series measured"),
    "series_territory": ("Địa bàn đo", None, "Địa bàn của chuỗi dùng để đo", "Territory of the series measured"),
    "basis_mismatch": ("Khác cơ sở", None, "True: chuỗi đo khác chỉ tiêu đặt mục tiêu", "True: the series differs from the target's indicator"),
    "boundary_converted": ("Đã quy đổi ranh giới", None, "True: chuỗi đã quy đổi sang ranh giới mới", "True: the series was converted to the new boundary"),
    "sections_met": ("Số khu vực đạt", "COUNT", "Số khu vực VSIC đã đạt mục tiêu", "VSIC sections meeting the target"),
    "sections_total": ("Số khu vực", "COUNT", "Số khu vực VSIC có mục tiêu", "VSIC sections with a target"),
    "origin": ("Gốc", None, "shipped = có sẵn trong kinhteso; user = người dùng thêm", "shipped with kinhteso or added by the user"),
    "change": ("Thay đổi", None, "Thay đổi so với kỳ trước (đơn vị của chỉ tiêu)", "Change on the previous period (in the indicator's unit)"),
    "quarterly_rate": ("Tăng theo quý", "RATIO", "Tốc độ tăng mỗi quý của lộ trình (0,01 = 1%)", "Quarterly growth of the path (0.01 = 1%)"),
    "part": ("Phần", None, "milestone = lộ trình theo quý; sector = phân rã theo ngành", "milestone = quarterly path; sector = by industry"),
    "baseline_share": ("Tỷ trọng cơ sở", "PCT", "Tỷ trọng kinh tế số nếu không thay đổi", "Digital-economy share with no change"),
    # peers
    "percentile": ("Bách phân vị", "PCT", "Bách phân vị trong 34 tỉnh (100 = cao nhất)", "Percentile among the 34 provinces (100 = highest)"),
    "group": ("Nhóm", None, "Nhóm ngang hàng (tứ phân vị GRDP bình quân đầu người, G1 thấp nhất)", "Peer group (quartile of GRDP per person, G1 lowest)"),
    "group_percentile": ("Bách phân vị trong nhóm", "PCT", "Bách phân vị trong nhóm ngang hàng", "Percentile within the peer group"),
    "best_in_group": ("Dẫn đầu nhóm", None, "Địa bàn cao nhất trong nhóm", "Best territory in the group"),
    "best_in_group_value": ("Giá trị dẫn đầu nhóm", None, "Giá trị của địa bàn dẫn đầu nhóm", "Value of the best in the group"),
    "best_overall": ("Dẫn đầu cả nước", None, "Địa bàn cao nhất trong 34 tỉnh", "Best territory among the 34"),
    "strength": ("Điểm mạnh", None, "True: thuộc tứ phân vị cao nhất", "True: in the top quartile"),
    "weakness": ("Điểm yếu", None, "True: thuộc tứ phân vị thấp nhất", "True: in the bottom quartile"),
    "learn_from": ("Học hỏi từ", None, "Địa bàn nên học hỏi (dẫn đầu nhóm)", "Whom to learn from (best in the group)"),
    "grdp_per_person": ("GRDP bình quân đầu người", None, "GRDP bình quân đầu người (triệu đồng)", "GRDP per person (million đồng)"),
    # index (DTI)
    "score": ("Điểm", "INDEX01", "Điểm chỉ số chuyển đổi số (0–1)", "Digital-transformation index score (0–1)"),
    "rank": ("Hạng", None, "Thứ hạng (1 = cao nhất)", "Rank (1 = highest)"),
    "rank_low": ("Hạng tốt nhất", None, "Cận trên của khoảng hạng 5–95% (số nhỏ)", "Best rank of the 5–95% rank interval"),
    "rank_high": ("Hạng kém nhất", None, "Cận dưới của khoảng hạng 5–95% (số lớn)", "Worst rank of the 5–95% rank interval"),
    "rank_median": ("Hạng trung vị", None, "Hạng trung vị qua các lần mô phỏng", "Median rank over the simulations"),
    "interval": ("Khoảng hạng", None, "Khoảng hạng 5–95% khi trọng số và chuẩn hóa thay đổi", "5–95% rank interval under changed weights and normalisation"),
    "strengths": ("Điểm mạnh", None, "Hai chỉ số chính xếp hạng tốt nhất", "The two best-ranked main indices"),
    "weaknesses": ("Điểm yếu", None, "Hai chỉ số chính xếp hạng kém nhất", "The two worst-ranked main indices"),
    # quarterly, revisions, vsic
    "revision": ("Điều chỉnh", None, "Chênh lệch giữa lần tính sau cùng và lần trước, điểm %", "Difference between the last and the previous computation, points"),
    "code": ("Mã", None, "Mã", "Code"),
    "region": ("Vùng", None, "Mã vùng kinh tế - xã hội", "Socio-economic region code"),
    "provinces": ("Số tỉnh", "COUNT", "Số tỉnh của vùng", "Provinces in the region"),
    "missing": ("Số tỉnh thiếu", "COUNT", "Số tỉnh thiếu số liệu", "Provinces without data"),
    "stored": ("Đã lưu", None, "True: số đã lưu trong kho; False: tính lúc hỏi", "True: stored; False: computed for this answer"),
    "complete": ("Đủ phiếu", None, "True: phiếu chỉ tiêu đủ các mục", "True: the indicator sheet is complete"),
    "no": ("STT", None, "Số thứ tự trong QĐ 1354/QĐ-BTTTT", "Number in Decision 1354/QĐ-BTTTT"),
    "periodicity_vi": ("Kỳ công bố", None, "Kỳ công bố (tiếng Việt)", "Periodicity (Vietnamese)"),
    "periodicity_en": ("Kỳ công bố (tiếng Anh)", None, "Kỳ công bố (tiếng Anh)", "Periodicity (English)"),
    "source_agency_vi": ("Cơ quan cung cấp", None, "Cơ quan cung cấp số liệu (tiếng Việt)", "Agency providing the data (Vietnamese)"),
    "source_agency_en": ("Cơ quan cung cấp (tiếng Anh)", None, "Cơ quan cung cấp số liệu (tiếng Anh)", "Agency providing the data (English)"),
    "decision_1354_vi": ("QĐ 1354", None, "Vị trí trong QĐ 1354/QĐ-BTTTT (tiếng Việt)", "Place in Decision 1354/QĐ-BTTTT (Vietnamese)"),
    "decision_1354_en": ("QĐ 1354 (tiếng Anh)", None, "Vị trí trong QĐ 1354/QĐ-BTTTT (tiếng Anh)", "Place in Decision 1354/QĐ-BTTTT (English)"),
    "created_at": ("Thời điểm tạo", None, "Thời điểm tạo", "When created"),
    "revoked_at": ("Thời điểm thu hồi", None, "Thời điểm thu hồi (trống: còn hiệu lực)", "When revoked (empty: in force)"),
    "tokens": ("Số mã truy cập", "COUNT", "Số mã truy cập còn hiệu lực", "Tokens in force"),
    "grants": ("Quyền", None, "Các quyền đã cấp", "Rights granted"),
    "state_pct_of_de": ("Nhà nước (% KTS)", "PCT", "Phần của khu vực nhà nước trong kinh tế số", "State ownership's share of the digital economy"),
    "nonstate_pct_of_de": ("Ngoài nhà nước (% KTS)", "PCT", "Phần của khu vực ngoài nhà nước trong kinh tế số", "Non-state ownership's share of the digital economy"),
    "fdi_pct_of_de": ("FDI (% KTS)", "PCT", "Phần của khu vực FDI trong kinh tế số", "Foreign-invested share of the digital economy"),
    "low": ("Cận dưới", None, "Cận dưới của khoảng dự báo (đơn vị ở cột Đơn vị)", "Lower bound of the interval (in the unit column's unit)"),
    "high": ("Cận trên", None, "Cận trên của khoảng dự báo (đơn vị ở cột Đơn vị)", "Upper bound of the interval (in the unit column's unit)"),
    "engine": ("Phương pháp dự báo", None, "Phương pháp dự báo tức thời (bridge, dfm, naive)", "Nowcast engine (bridge, dfm, naive)"),
    "parent": ("Cấp trên", None, "Mã cấp trên", "Parent code"),
    "name_vi": ("Tên tiếng Việt", None, "Tên tiếng Việt", "Vietnamese name"),
    "name_en": ("Tên tiếng Anh", None, "Tên tiếng Anh", "English name"),
    "key": ("Khóa", None, "Khóa dùng trong lệnh", "Key used in commands"),
    # coef calibrate: the published constraints
    "target": ("Số công bố", None, "Giá trị công bố mà hiệu chỉnh phải đạt (điểm % GDP hoặc tỷ trọng)", "Published figure the calibration must meet (points of GDP or share)"),
    "achieved": ("Đạt được", None, "Giá trị đạt được sau hiệu chỉnh", "Value achieved by the calibration"),
    "residual": ("Chênh lệch", None, "Đạt được trừ số công bố", "Achieved minus published"),
    "met": ("Đạt", None, "True: ràng buộc được thỏa mãn", "True: the constraint is met"),
    "within_rounding": ("Trong sai số làm tròn", None, "True: chênh lệch nằm trong sai số làm tròn của số công bố", "True: the miss is within the rounding of the published figure"),
}


def column_name(code: str, lang: str) -> str:
    """What a reader sees as the column's name: words in Vietnamese, the code in English."""
    entry = COLUMNS.get(code)
    return entry[0] if entry and lang == "vi" else code


def column_unit(code: str) -> str | None:
    """The unit code of a column (``None`` when it has none or is not listed)."""
    entry = COLUMNS.get(code)
    return entry[1] if entry else None


def column_precision(code: str) -> int | None:
    """Decimals CSV/XLSX keep for a column, from its unit (``None``: not rounded)."""
    from kinhteso.reference.indicators import unit_precision  # noqa: PLC0415

    unit = column_unit(code)
    return EXTRA_UNITS[unit][2] if unit in EXTRA_UNITS else unit_precision(unit)


def column_header(code: str, lang: str) -> str:
    """An XLSX header: the column's name and, when it has one, its unit in the language."""
    from kinhteso.reference.indicators import UNITS  # noqa: PLC0415

    unit = column_unit(code)
    name = column_name(code, lang)
    names = UNITS.get(unit) or EXTRA_UNITS.get(unit)
    return f"{name} ({names[0 if lang == 'vi' else 1]})" if names else name


def column_legend(code: str, lang: str) -> str:
    """What the column holds, in the language ("" for a column not listed)."""
    entry = COLUMNS.get(code)
    if not entry:
        return ""
    return entry[2] if lang == "vi" else entry[3]


#: Codes that appear as values in tables (components, bridge items) → (vi, en) words.
TERMS: dict[str, tuple[str, str]] = {
    "core": ("lõi", "core"),
    "digitalised": ("số hóa", "digitalised"),
    "ict": ("ICT (lõi)", "ICT (core)"),
    "platform": ("nền tảng số", "digital platforms"),
    "sectoral": ("số hóa ngành", "sectoral digitalisation"),
    "total": ("tổng", "total"),
    "gso_total": ("tổng theo cách đo GSO", "total on the GSO view"),
    "plus_platform_va": ("cộng GTTT nền tảng số", "plus platform value added"),
    "minus_platform_already_in_digitalised": ("trừ phần nền tảng đã tính trong số hóa",
                                              "minus platform value already in digitalised"),
    "mic_style_total": ("tổng theo cách đo MIC", "total on the MIC view"),
    # kinds of kinhteso runs and their methods (the briefing's table of runs)
    "accounts": ("tài khoản kinh tế số", "digital-economy accounts"),
    "coef": ("hệ số số hóa", "digitalisation coefficients"),
    "quarterly": ("số quý", "quarterly figures"),
    "nowcast": ("dự báo tức thời", "nowcast"),
    "stable": ("chuỗi ổn định", "stable series"),
    "index": ("chỉ số tổng hợp", "composite index"),
    "io": ("bảng cân đối liên ngành (I-O)", "input-output table"),
    "calibration": ("hiệu chỉnh theo số liệu tỉnh", "calibration on the province's data"),
    "kinhteso.methods.accounts.measure": ("đo theo tài khoản (GTTT kinh tế số / GRDP)",
                                          "accounts measure (digital-economy value added / GRDP)"),
    "denton-cholette": ("phân bổ theo quý Denton–Cholette", "Denton–Cholette temporal disaggregation"),
    "bridge": ("phương trình cầu nối", "bridge equation"),
    "dfm": ("mô hình nhân tố động", "dynamic factor model"),
    "naive": ("giữ tốc độ quý trước", "naive (last quarter's growth)"),
}


def term(code: str, lang: str) -> str:
    """A code shown as a value (``plus_platform_va``) in words in Vietnamese; in English, and for
    unknown codes, the code itself (the English words are in :data:`TERMS` for legends)."""
    entry = TERMS.get(code)
    return entry[0] if entry and lang == "vi" else code


def term_words(code: str, lang: str) -> str:
    """A code of :data:`TERMS` in words in ``lang`` (English words too, for a reader rather than a
    legend): ``term_words("bridge", "en") == "bridge equation"``; an unknown code is returned as it is."""
    entry = TERMS.get(code)
    return (entry[0] if lang == "vi" else entry[1]) if entry else code
