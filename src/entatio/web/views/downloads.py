"""Downloads of a presentation: its original file and a PDF of its slides.

Authors always may; members who see a presentation may once an author has
marked it downloadable, and otherwise get 404 as if there were nothing to
download. Every download is an event (verb ``downloaded``).
"""

import io
import textwrap

import pypdfium2 as pdfium
from django.contrib import messages
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from PIL import Image, ImageDraw, ImageFont

from entatio.engagement.access import presentation_for, presentation_to_edit
from entatio.engagement.activity import record_activity
from entatio.library.editing import shown_slides
from entatio.library.models import Presentation, Slide
from entatio.people.models import Member
from entatio.web.members import member_page

# A slide without a picture (a text card) becomes a page of this size.
TEXT_PAGE = (1280, 720)
JPEG_QUALITY = 88


@require_POST
@member_page
def set_downloadable(
    request: HttpRequest, member: Member, presentation_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    presentation.downloadable = request.POST.get("downloadable") == "on"
    presentation.save(update_fields=["downloadable", "updated_at"])

    if presentation.downloadable:
        messages.success(request, "Members who see it may now download it.")
    else:
        messages.success(request, "Only authors may download it now.")
    return redirect("share", presentation.pk)


@require_GET
@member_page
def download_original(
    request: HttpRequest, member: Member, presentation_id: int
) -> FileResponse:
    """The file the presentation was made from, as it was uploaded."""
    presentation = presentation_to_download(member, presentation_id)
    source = presentation.source
    if source is None or not source.file.name:
        raise Http404("This presentation has no original file")
    try:
        stream = default_storage.open(source.file.name)
    except OSError as error:
        raise Http404("The original file is missing") from error

    record_activity(member, "downloaded", presentation, details={"format": "original"})
    return _attachment(stream, source.original_name)


@require_GET
@member_page
def download_pdf(
    request: HttpRequest, member: Member, presentation_id: int
) -> FileResponse:
    """The slides the audience pages through, one a page, in their order."""
    presentation = presentation_to_download(member, presentation_id)
    slides = shown_slides(presentation)
    if not slides:
        raise Http404("This presentation has no slides yet")

    document = slides_pdf(slides)
    record_activity(member, "downloaded", presentation, details={"format": "pdf"})
    name = f"{slugify(presentation.title) or 'presentation'}.pdf"
    return _attachment(io.BytesIO(document), name, "application/pdf")


def presentation_to_download(member: Member, presentation_id: int) -> Presentation:
    """404 unless the member sees it and may download it."""
    presentation = presentation_for(member, presentation_id)
    if not (presentation.downloadable or member.can_author):
        raise Http404("This presentation cannot be downloaded")
    return presentation


def _attachment(
    stream: File | io.BytesIO, filename: str, content_type: str | None = None
) -> FileResponse:
    response = FileResponse(stream, as_attachment=True, filename=filename)
    if content_type:
        response["Content-Type"] = content_type
    response["Cache-Control"] = "private, no-store"
    return response


def slides_pdf(slides: list[Slide]) -> bytes:
    """A PDF with one page per slide, each the size of the slide's picture.

    Pages go in as JPEG one at a time, so only the compressed pictures are
    held, never every slide's full bitmap at once.
    """
    document = pdfium.PdfDocument.new()
    for slide in slides:
        picture = slide_picture(slide)
        width, height = picture.size
        page = document.new_page(width, height)
        image = pdfium.PdfImage.new(document)
        image.load_jpeg(_jpeg(picture), inline=True)
        image.set_matrix(pdfium.PdfMatrix().scale(width, height))
        page.insert_obj(image)
        page.gen_content()

    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def slide_picture(slide: Slide) -> Image.Image:
    """The slide's image, or a plain page with its title and text."""
    if slide.image.name:
        try:
            with default_storage.open(slide.image.name) as f:
                return Image.open(f).convert("RGB")
        except OSError:
            pass  # A missing picture still gets its page, with the words.
    return _text_page(slide.title, slide.text)


def _text_page(title: str, text: str) -> Image.Image:
    page = Image.new("RGB", TEXT_PAGE, "white")
    draw = ImageDraw.Draw(page)
    heading = ImageFont.load_default(size=44)
    body = ImageFont.load_default(size=26)

    draw.text((64, 56), title or "", fill="black", font=heading)
    y = 140
    for paragraph in (text or "").splitlines():
        for line in textwrap.wrap(paragraph, width=80) or [""]:
            if y > TEXT_PAGE[1] - 60:
                return page
            draw.text((64, y), line, fill="black", font=body)
            y += 36
    return page


def _jpeg(picture: Image.Image) -> io.BytesIO:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    return buffer
