"""Printing: PDF (Typst, fonts embedded), XLSX and CSV for reports, extracts and the archive.

The API is small and stable:

- `render_pdf(template_name, data) -> bytes`: a Typst template from `templates/` given `data`
  (dicts, lists, msgspec structs, dates) as JSON;
- `table_pdf(title, header, rows, ...) -> bytes`: the generic one-table printed page;
- `table_xlsx(title, header, rows) -> bytes` and `table_csv(header, rows) -> bytes`.
"""

from server.printing.pdf import PrintError, render_pdf, table_pdf
from server.printing.tables import table_csv, table_xlsx

__all__ = ["PrintError", "render_pdf", "table_csv", "table_pdf", "table_xlsx"]
