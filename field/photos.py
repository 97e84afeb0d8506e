"""Report photos: check that an upload really is an image, resize, strip metadata.

Every photo is decoded with Pillow (a file that is not an image, whatever its name, is
refused), limited in bytes and pixels before decoding (decompression bombs), turned upright
from its EXIF orientation, resized so its longer side is at most ``photo_max_px`` and
re-encoded as JPEG *without* EXIF, GPS, ICC or any other metadata, so no hidden location or
device data is kept.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from field.settings import FieldRules
from layers.messages import msg

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO")
"""Image formats accepted from phones (HEIC is converted by the phone's browser on upload)."""


class PhotoError(ValueError):
    """An upload that is not an acceptable photo."""


@dataclass(frozen=True)
class Photo:
    """A cleaned photo ready for the store."""

    data: bytes
    width: int
    height: int
    sha256: str
    media_type: str = "image/jpeg"


def clean_photo(data: bytes, rules: FieldRules, *, name: str = "photo") -> Photo:
    """Check, resize and strip `data` (see module doc); raises :class:`PhotoError`."""
    limit = rules.photo_max_upload_mb * 1024 * 1024
    if len(data) > limit:
        size, limit = len(data) / 1024 / 1024, rules.photo_max_upload_mb
        raise PhotoError(
            msg(
                f"{name}：{size:,.1f} MB，超过 {limit:,.0f} MB 的上限",
                f"{name}: {size:,.1f} MB is larger than the limit of {limit:,.0f} MB",
            )
        )
    if not data:
        raise PhotoError(msg(f"{name}：文件为空", f"{name}: the file is empty"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in ACCEPTED_FORMATS:
                    raise PhotoError(
                        msg(
                            f"{name}：不接受 {fmt} 图片，请用 JPEG、PNG 或 WebP",
                            f"{name}: {fmt} images are not accepted; use JPEG, PNG or WebP",
                        )
                    )
                if probe.width * probe.height > rules.photo_max_pixels:
                    size, limit = f"{probe.width:,} x {probe.height:,}", rules.photo_max_pixels
                    raise PhotoError(
                        msg(
                            f"{name}：{size} 像素，超过 {limit:,} 像素的上限",
                            f"{name}: {size} pixels is more than the limit of {limit:,} pixels",
                        )
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(
            msg(
                f"{name}：不是图片（应为 JPEG、PNG 或 WebP）",
                f"{name}: not an image (JPEG, PNG or WebP expected)",
            )
        ) from None
    except (OSError, SyntaxError, ValueError) as err:
        raise PhotoError(
            msg(
                f"{name}：图片损坏或不完整（{err}）",
                f"{name}: the image is damaged or incomplete ({err})",
            )
        ) from None
    upright = upright.convert("RGB")
    upright.thumbnail((rules.photo_max_px, rules.photo_max_px), Image.Resampling.LANCZOS)
    out = b""
    for quality in (85, 75, 65, 50, 35):
        buffer = io.BytesIO()
        # a fresh image without .info: nothing but pixels is written (no EXIF, ICC, XMP)
        clean = Image.new("RGB", upright.size)
        clean.paste(upright)
        clean.save(buffer, format="JPEG", quality=quality, optimize=True)
        out = buffer.getvalue()
        if len(out) <= rules.photo_max_stored_kb * 1024:
            break
    else:
        limit = rules.photo_max_stored_kb
        raise PhotoError(
            msg(
                f"{name}：无法压缩到 {limit:,.0f} KB 以内",
                f"{name}: cannot be stored within {limit:,.0f} KB",
            )
        )
    return Photo(
        data=out,
        width=upright.width,
        height=upright.height,
        sha256=hashlib.sha256(out).hexdigest(),
    )
