"""Every PDF of a package declares PDF/A-2b, embeds its fonts and is not encrypted."""

from __future__ import annotations

import pikepdf

FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def _fonts(pdf: pikepdf.Pdf) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font a page uses, composite fonts by their descendant."""
    found = []
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            described = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = described.get("/FontDescriptor")
            embedded = descriptor is not None and any(k in descriptor for k in FONT_FILES)
            found.append((str(font.get("/BaseFont")), embedded))
    return found


def test_every_pdf_of_the_package_is_pdfa_2b_with_fonts_embedded(archived_once):
    pdfs = sorted((archived_once.bag / "data").rglob("*.pdf"))
    assert len(pdfs) == 3 + 2 + 6  # journals, summary sheets, personal files
    for path in pdfs:
        with pikepdf.open(path) as pdf:
            name = path.relative_to(archived_once.bag).as_posix()
            assert not pdf.is_encrypted, name
            meta = pdf.open_metadata()
            assert meta.pdfa_status == "2B", name  # pdfaid:part 2, pdfaid:conformance B in XMP
            assert "/OutputIntents" in pdf.Root, name  # the colour space PDF/A requires
            fonts = _fonts(pdf)
            assert fonts, name
            assert all(embedded for _, embedded in fonts), (name, fonts)
