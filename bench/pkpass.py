"""Passes per second: our builder vs wallet-py3k's stock signer vs the raw RSA-2048 sign rate
of the same key, for the same pass with the same images (~400 KB), in one run.

    python -m bench.pkpass [--passes N] [--stock-passes M]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from PIL import Image
from wallet.models import Barcode, BarcodeFormat, Pass, StoreCard

from walletcards.apple.certificates import PassSigner, make_dev_chain, write_dev_chain
from walletcards.apple.pkpass import DEFAULT_IMAGES, IMAGE_NAMES, PassDesign, PassStyle
from walletcards.cardface import CardFace

PASSWORD = "bench-key-password"  # noqa: S105  (a throwaway key made by this run)


def realistic_images(folder: Path) -> int:
    """The default set plus a photographic-looking strip@3x (noise does not compress), ~400 KB."""
    for name in IMAGE_NAMES:
        (folder / name).write_bytes((DEFAULT_IMAGES / name).read_bytes())
    noise = Image.frombytes("RGB", (375, 360), os.urandom(375 * 360 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    (folder / "strip@3x.png").write_bytes(buffer.getvalue())
    return sum((folder / name).stat().st_size for name in IMAGE_NAMES)


FACE = CardFace(
    locale="en",
    program_name="Demo Coffee",
    customer_name="Ann Lee",
    member_number="1234567897",
    code="1234567897-ABCDEFGHIJKLM",
    available=1250,
    pending=300,
    tier="Silver",
    next_tier="2 orders more to Gold",
    reward_progress="3 more orders to your reward",
    expiring_points=120,
    expiring_on=date(2026, 12, 12),
    expiring="120 points expire on 12 Dec",
    version=7,
)


def timed(count: int, op: Callable[[], object]) -> tuple[float, list[float]]:
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        op()
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - start, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=1000)
    parser.add_argument("--stock-passes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = folder / "images"
        images.mkdir()
        size = realistic_images(images)
        chain = make_dev_chain("pass.com.example.demo", "ABCDE12345", datetime.now(UTC))
        write_dev_chain(chain, folder / "certs", PASSWORD)
        signer = PassSigner(chain.certificate, chain.private_key, chain.wwdr)
        style = PassStyle(
            "pass.com.example.demo",
            "ABCDE12345",
            "Demo Coffee",
            "https://cards.example.com/passkit/",
        )
        design = PassDesign(style, images)  # prepared once per programme design
        url = "https://cards.example.com/c/token"

        def ours() -> list[bytes]:
            # what the service sends: chunks, the shared image part never copied
            return design.build_chunks(design.pass_json(FACE, "serial-1", "a" * 32, url), signer)

        def ours_joined() -> bytes:
            return design.build(design.pass_json(FACE, "serial-1", "a" * 32, url), signer)

        manifest = design.build(design.pass_json(FACE, "serial-1", "a" * 32, url), signer)

        def raw_rsa() -> bytes:
            return chain.private_key.sign(manifest[:1024], padding.PKCS1v15(), hashes.SHA256())

        certs = folder / "certs"

        def stock() -> bytes:
            # wallet-py3k's own path: its model, its manifest, openssl spawned per pass
            info = StoreCard()
            info.addPrimaryField("points", FACE.available, "Points")
            info.addSecondaryField("pending", FACE.pending, "Pending")
            model = Pass(
                info,
                passTypeIdentifier=style.pass_type_identifier,
                organizationName=style.organization_name,
                teamIdentifier=style.team_identifier,
            )
            model.serialNumber, model.description = "serial-1", "Demo Coffee loyalty card"
            model.barcode = Barcode(FACE.code, BarcodeFormat.QR)
            for name in IMAGE_NAMES:
                with open(images / name, "rb") as fh:
                    model.addFile(name, fh)
            out = model.create(
                str(certs / "pass.pem"), str(certs / "pass.key"), str(certs / "wwdr.pem"), PASSWORD
            )
            return bytes(out.getvalue())

        print(
            f"pkpass benchmark: RSA-2048, images {size / 1024:.0f} KB, "
            f"{args.passes} passes ({args.stock_passes} for the stock signer)"
        )
        print("| builder | passes/s | p50 ms | p99 ms | vs raw RSA sign | vs wallet-py3k stock |")
        print("|---|---:|---:|---:|---:|---:|")
        results = {}
        for name, op, count in (
            ("raw RSA-2048 sign (ceiling)", raw_rsa, args.passes),
            ("walletcards (in-process CMS)", ours, args.passes),
            ("walletcards, joined into one bytes object", ours_joined, args.passes),
            ("wallet-py3k stock (openssl per pass)", stock, args.stock_passes),
        ):
            op()  # warm up
            elapsed, lat = timed(count, op)
            q = statistics.quantiles(lat, n=100)
            results[name] = (count / elapsed, q[49] * 1000, q[98] * 1000)
        raw = results["raw RSA-2048 sign (ceiling)"][0]
        stock_rate = results["wallet-py3k stock (openssl per pass)"][0]
        for name, (rate, p50, p99) in results.items():
            print(
                f"| {name} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {rate / raw:.2f} | "
                f"{rate / stock_rate:.1f} |"
            )


if __name__ == "__main__":
    main()
