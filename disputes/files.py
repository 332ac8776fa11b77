"""Evidence files: PDF and images only (told by their first bytes, never by the name or the
browser's content type), at most `MAX_FILE_BYTES` each and `MAX_FILES` per dispute."""

from __future__ import annotations

from dataclasses import dataclass

from disputes.errors import EvidenceFileRejected

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 10
MAX_FILENAME = 120


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


PDF = FileType("application/pdf", "pdf")
PNG = FileType("image/png", "png")
JPEG = FileType("image/jpeg", "jpg")
GIF = FileType("image/gif", "gif")
WEBP = FileType("image/webp", "webp")
ACCEPTED = "PDF, PNG, JPEG, GIF or WebP"


def evidence_file_type(head: bytes) -> FileType:
    """The type of a file from its first bytes; `EvidenceFileRejected` for anything but PDF or an image."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    raise EvidenceFileRejected(
        f"Evidence files must be {ACCEPTED}; this file is none of them.", param="file", code="invalid_file_type"
    )


def evidence_size_check(size: int) -> None:
    if size <= 0:
        raise EvidenceFileRejected("The file is empty.", param="file", code="file_empty")
    if size > MAX_FILE_BYTES:
        raise EvidenceFileRejected(
            f"Evidence files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB each.",
            param="file",
            code="file_too_large",
        )


def display_name(name: str | None) -> str:
    """The uploaded name as shown on the page: its last path part, printable, shortened."""
    base = (name or "evidence").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip() or "evidence"
    return cleaned[:MAX_FILENAME]
