"""Draws the default pass images shipped in walletcards/apple/images (run once, with Pillow).

.venv/bin/python tools/make_default_images.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "walletcards" / "apple" / "images"
BG = (44, 62, 80)
ACCENT = (230, 126, 34)
CREAM = (253, 246, 236)


def cup(draw: ImageDraw.ImageDraw, w: float, h: float, color: tuple[int, ...], line: float) -> None:
    """A stylised coffee cup with steam."""
    cx, cy, r = w / 2, h * 0.58, min(w, h) * 0.28
    draw.rounded_rectangle(
        [cx - r, cy - r * 0.9, cx + r, cy + r * 0.8], radius=r * 0.35, fill=color
    )
    draw.arc([cx + r * 0.6, cy - r * 0.5, cx + r * 1.35, cy + r * 0.35], start=-90, end=90,
             fill=color, width=max(1, int(line)))  # fmt: skip
    for dx in (-0.45, 0, 0.45):
        x = cx + dx * r
        draw.line([x, cy - r * 1.05, x + r * 0.12, cy - r * 1.35, x, cy - r * 1.65], fill=color,
                  width=max(1, int(line * 0.7)), joint="curve")  # fmt: skip


def icon(scale: int) -> Image.Image:
    size = 29 * scale
    image = Image.new("RGBA", (size, size), (*BG, 255))
    cup(ImageDraw.Draw(image), size, size, CREAM, 2 * scale)
    return image


def logo(scale: int) -> Image.Image:
    w, h = 160 * scale, 50 * scale
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    cup(draw, h, h, ACCENT, 2 * scale)
    for i in range(3):
        top = h * (0.3 + 0.18 * i)
        draw.rounded_rectangle([h + 6 * scale, top, h + (76 - 15 * i) * scale, top + 4 * scale],
                               radius=2 * scale, fill=(*CREAM, 255))  # fmt: skip
    return image


def strip(scale: int) -> Image.Image:
    w, h = 375 * scale, 123 * scale
    image = Image.new("RGB", (w, h), BG)
    draw = ImageDraw.Draw(image)
    for y in range(h):
        t = 0.35 * y / h
        draw.line(
            [0, y, w, y], fill=tuple(int(b + (a - b) * t) for a, b in zip(ACCENT, BG, strict=True))
        )
    for i in range(12):
        x = (i * 37 * scale) % w
        draw.ellipse([x, h * 0.65, x + 24 * scale, h * 0.65 + 12 * scale],
                     fill=tuple(min(255, c + 30) for c in BG))  # fmt: skip
    return image.filter(ImageFilter.SMOOTH)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in (("icon", icon), ("logo", logo), ("strip", strip)):
        for scale in (1, 2, 3):
            suffix = "" if scale == 1 else f"@{scale}x"
            draw(scale).save(OUT / f"{name}{suffix}.png", optimize=True)


if __name__ == "__main__":
    main()
