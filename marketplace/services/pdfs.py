"""PDF uploads (business licences, authorization letters): check, clean, render for staff.

A PDF is hostile until proven otherwise, like an image (``services/images.py``). ``clean_pdf``
refuses anything over the byte or page cap, encrypted files, files carrying JavaScript (``/JS``,
``/S /JavaScript``, the ``/Names`` JavaScript tree — reached from ``/OpenAction``, ``/AA`` or a
link), launch actions and embedded files (``/EmbeddedFiles``, ``/EF``, ``/Type /EmbeddedFile``),
then re-saves it with pikepdf without its document information and XMP metadata. ``render_pages``
turns each page into a re-encoded image (pypdfium2, then the image pipeline's encoder) — what
staff look at; the PDF itself is only ever served as a download, never inline.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf
import pypdfium2 as pdfium

from ..validation import ValidationError
from .images import encode

PDF_MAX_BYTES = 10 * 1024 * 1024
PDF_MAX_PAGES = 5
RENDER_MAX_SIDE = 1600  # pixels: a licence stays legible, a huge page cannot blow up memory
RENDER_MAX_SCALE = 2.5

MSG_EMPTY = "请选择要上传的 PDF 文件。"
MSG_BROKEN = "PDF 文件已损坏或无法读取，请重新导出后再上传。"
MSG_ENCRYPTED = "PDF 文件已加密或设有密码，请上传未加密的 PDF。"
MSG_SCRIPT = "PDF 文件含有脚本或自动执行的动作，出于安全原因不能接受，请另存为普通 PDF 或上传图片。"
MSG_EMBEDDED = "PDF 文件内嵌了其他文件（附件），不能接受，请去掉附件后再上传。"
MSG_NO_PAGES = "PDF 文件没有页面。"

# Dictionary keys / name values that mean "runs something" or "carries a file".
_SCRIPT_KEYS = {"/JS", "/JavaScript"}
_SCRIPT_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/Rendition", "/RichMediaExecute"}
_EMBED_KEYS = {"/EmbeddedFiles", "/EF", "/RichMedia"}


def is_pdf(data: bytes) -> bool:
    """Does the upload claim to be a PDF (its first bytes, not its name)?"""
    return data[:1024].lstrip()[:5] == b"%PDF-"


@dataclass
class CleanPdf:
    data: bytes
    pages: int


def _size_message(max_bytes: int) -> str:
    return f"PDF 文件不能超过 {max_bytes / (1024 * 1024):g} MB。"


def _refusal(obj) -> str | None:
    """The message for a dictionary (or stream) object that scripts or embeds, else None."""
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if not isinstance(obj, pikepdf.Dictionary):
        return None
    keys = set(obj.keys())
    if keys & _SCRIPT_KEYS:
        return MSG_SCRIPT
    if str(obj.get("/S", "")) in _SCRIPT_ACTIONS:
        return MSG_SCRIPT
    if keys & _EMBED_KEYS or str(obj.get("/Type", "")) == "/EmbeddedFile":
        return MSG_EMBEDDED
    return None


def _check_objects(pdf: pikepdf.Pdf) -> None:
    """Refuse scripts and embedded files wherever they sit: every indirect object, plus the
    direct dictionaries of the catalog and the pages (where ``/OpenAction`` and ``/AA`` live)."""
    candidates = list(pdf.objects) + [pdf.Root]
    for name in ("/OpenAction", "/AA", "/Names"):
        if name in pdf.Root:
            candidates.append(pdf.Root[name])
    for page in pdf.pages:
        candidates.append(page.obj)
        if "/AA" in page.obj:
            candidates.append(page.obj["/AA"])
    for obj in candidates:
        problem = _refusal(obj)
        if problem is None and isinstance(obj, pikepdf.Dictionary):
            for value in obj.values():  # direct action dictionaries inside /AA, /OpenAction
                problem = _refusal(value)
                if problem:
                    break
        if problem:
            raise ValidationError(problem)


def clean_pdf(data: bytes, *, max_bytes: int = PDF_MAX_BYTES, max_pages: int = PDF_MAX_PAGES) -> CleanPdf:
    """Check an uploaded PDF and return it re-saved without metadata, with its page count.

    Raises ``ValidationError`` with a Chinese message: too big, too many pages, broken,
    encrypted, scripted, or carrying embedded files.
    """
    if not data:
        raise ValidationError(MSG_EMPTY)
    if len(data) > max_bytes:
        raise ValidationError(_size_message(max_bytes))
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise ValidationError(MSG_ENCRYPTED) from None
    except Exception:  # pikepdf raises PdfError and friends for garbage
        raise ValidationError(MSG_BROKEN) from None
    with pdf:
        if pdf.is_encrypted:
            raise ValidationError(MSG_ENCRYPTED)
        try:
            count = len(pdf.pages)
            _check_objects(pdf)
        except ValidationError:
            raise
        except Exception:
            raise ValidationError(MSG_BROKEN) from None
        if count == 0:
            raise ValidationError(MSG_NO_PAGES)
        if count > max_pages:
            raise ValidationError(f"PDF 文件最多 {max_pages} 页（此文件有 {count} 页），请只上传营业执照所在的页面。")
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
        out = io.BytesIO()
        try:
            pdf.save(out, linearize=False, deterministic_id=True)
        except Exception:
            raise ValidationError(MSG_BROKEN) from None
    return CleanPdf(out.getvalue(), count)


@dataclass
class RenderedPage:
    data: bytes
    mime: str
    width: int
    height: int


def _render(page) -> RenderedPage:
    width, height = page.get_size()
    scale = min(RENDER_MAX_SCALE, RENDER_MAX_SIDE / max(width, height, 1.0))
    im = page.render(scale=scale).to_pil().convert("RGB")
    out, mime = encode(im)
    return RenderedPage(out, mime, im.width, im.height)


def render_pages(data: bytes, only: int | None = None) -> list[RenderedPage]:
    """Each page of a (cleaned) PDF as a re-encoded image at most ``RENDER_MAX_SIDE`` pixels
    across — or just page ``only`` (1-based; an empty list when there is no such page)."""
    pages: list[RenderedPage] = []
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise ValidationError(MSG_BROKEN) from None
    try:
        numbers = range(len(doc)) if only is None else [only - 1] if 0 < only <= len(doc) else []
        for index in numbers:
            page = doc[index]
            try:
                pages.append(_render(page))
            finally:
                page.close()
    except pdfium.PdfiumError:
        raise ValidationError(MSG_BROKEN) from None
    finally:
        doc.close()
    return pages


def page_count(data: bytes) -> int:
    """How many pages a stored (cleaned) PDF has (0 if it cannot be read)."""
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return 0
    try:
        return len(doc)
    finally:
        doc.close()
