#!/usr/bin/env python3
"""Writes the knowledge-base test fixture PDF (tests/fixtures/kb/<project>/product/safety-manual.pdf):
a minimal, valid one-page PDF 1.4 with text in Helvetica (a standard font: nothing embedded), so the
PDF reader of crates/kb is tested on a real file without a PDF library. Run once; the output is
committed. Usage: python3 scripts/kb-fixture-pdf.py OUTPUT.pdf"""
import sys

LINES = [
    "Lumen kettle - safety instructions and first use",
    "",
    "Before the first use, boil a full kettle of water twice and pour it away.",
    "Never immerse the kettle, the base or the cord in water or any other liquid.",
    "Do not fill the kettle above the MAX line: boiling water may spill out of the spout.",
    "Children from 8 years old may use the kettle only under supervision.",
    "Always place the base on a flat, dry surface away from the edge of the worktop.",
    "Unplug the base before cleaning it and let the kettle cool down first.",
    "Use only the base supplied with the kettle: model LK-200 base.",
]


def escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def main(path):
    ops = ["BT", "/F1 11 Tf", "14 TL", "56 780 Td"]
    for line in LINES:
        ops.append("(%s) Tj T*" % escape(line))
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    with open(path, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main(sys.argv[1])
